using Chat.Domain.Messaging;
using Chat.Tests.Fixtures;
using static Chat.Tests.Messaging.MessagingTestKit;

namespace Chat.Tests.Messaging;

/// <summary>"Messages (v2)", <c>MarkRead</c>: the answer, forward-only markers, <c>MessagesRead</c>, and what conversations show.</summary>
public abstract class ReadMarkerTests(ChatApp app)
{
    [Fact]
    public async Task MarkRead_answers_the_marker_and_the_unread_count_and_every_connection_of_both_users_gets_MessagesRead()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var alicePhone = await app.ConnectAsync(alice);
        await using var aliceLaptop = await app.ConnectAsync(alice);
        await using var bobPhone = await app.ConnectAsync(bob);
        await using var bobLaptop = await app.ConnectAsync(bob);
        var events = new[] { alicePhone, aliceLaptop, bobPhone, bobLaptop }.Select(c => c.Record<MessagesReadBody>("MessagesRead")).ToList();
        var sent = new List<ChatMessage>();
        foreach (var text in new[] { "one", "two", "three" })
        {
            sent.Add(MessageOf(await alicePhone.SendAsync(bob.Id, text), alice.Id, text));
        }

        var before = DateTimeOffset.UtcNow;
        var answer = await bobPhone.MarkReadUpToAsync(alice.Id, sent[1]);

        Assert.Equal(new ReadMarkerBody(alice.Id, sent[1].Id, 1), answer);
        foreach (var connection in events)
        {
            var read = await connection.NextAsync();
            Assert.Equal((bob.Id, alice.Id, sent[1].Id), (read.ReaderId, read.PeerId, read.UpToId));
            Assert.InRange(read.ReadAt, before.AddSeconds(-5), DateTimeOffset.UtcNow.AddSeconds(5));
        }
    }

    [Fact]
    public async Task A_read_marker_only_moves_forward_and_an_older_upToId_answers_the_current_marker_without_an_event()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var aliceEvents = aliceConnection.Record<MessagesReadBody>("MessagesRead");
        var bobEvents = bobConnection.Record<MessagesReadBody>("MessagesRead");
        var sent = await ConverseAsync((aliceConnection, alice), (bobConnection, bob), "one", "two", "three", "four", "five");
        var fromAlice = sent.Where(m => m.SenderId == alice.Id).ToList(); // one, three, five

        Assert.Equal(new ReadMarkerBody(alice.Id, sent[2].Id, 1), await bobConnection.MarkReadUpToAsync(alice.Id, sent[2]));
        Assert.Equal(sent[2].Id, (await aliceEvents.NextAsync()).UpToId);
        Assert.Equal(sent[2].Id, (await bobEvents.NextAsync()).UpToId);

        // Older, and the same again: the marker stays, the answer shows it, and nobody is told anything.
        Assert.Equal(new ReadMarkerBody(alice.Id, sent[2].Id, 1), await bobConnection.MarkReadUpToAsync(alice.Id, sent[0]));
        Assert.Equal(new ReadMarkerBody(alice.Id, sent[2].Id, 1), await bobConnection.MarkReadUpToAsync(alice.Id, sent[1]));
        Assert.Equal(new ReadMarkerBody(alice.Id, sent[2].Id, 1), await bobConnection.MarkReadUpToAsync(alice.Id, sent[2]));
        var conversation = Assert.Single(await app.ConversationsAsync(bob));
        Assert.Equal(sent[2].Id, conversation.ReadUpTo);
        Assert.Equal(1, conversation.UnreadCount);

        // The next event either side gets is the next move: the calls above sent none.
        Assert.Equal(new ReadMarkerBody(alice.Id, fromAlice[2].Id, 0), await bobConnection.MarkReadUpToAsync(alice.Id, fromAlice[2]));
        Assert.Equal(fromAlice[2].Id, (await aliceEvents.NextAsync()).UpToId);
        Assert.Equal(fromAlice[2].Id, (await bobEvents.NextAsync()).UpToId);
    }

    [Fact]
    public async Task Conversations_show_both_read_markers_and_the_unread_count_that_MarkRead_leaves()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var sent = new List<ChatMessage>();
        foreach (var text in new[] { "one", "two", "three" })
        {
            sent.Add(MessageOf(await aliceConnection.SendAsync(bob.Id, text), alice.Id, text));
        }

        var bobsView = Assert.Single(await app.ConversationsAsync(bob));
        Assert.Equal((3, null, null), (bobsView.UnreadCount, bobsView.ReadUpTo, bobsView.PeerReadUpTo));

        await bobConnection.MarkReadUpToAsync(alice.Id, sent[1]);

        bobsView = Assert.Single(await app.ConversationsAsync(bob));
        Assert.Equal((1, sent[1].Id, null), (bobsView.UnreadCount, bobsView.ReadUpTo, bobsView.PeerReadUpTo));
        var alicesView = Assert.Single(await app.ConversationsAsync(alice));
        Assert.Equal((0, null, sent[1].Id), (alicesView.UnreadCount, alicesView.ReadUpTo, alicesView.PeerReadUpTo));

        var fourth = await aliceConnection.SendAsync(bob.Id, "four");
        Assert.Equal(2, Assert.Single(await app.ConversationsAsync(bob)).UnreadCount);

        Assert.Equal(0, (await bobConnection.MarkReadUpToAsync(alice.Id, MessageOf(fourth, alice.Id, "four"))).UnreadCount);
        bobsView = Assert.Single(await app.ConversationsAsync(bob));
        Assert.Equal((0, fourth.Id, null), (bobsView.UnreadCount, bobsView.ReadUpTo, bobsView.PeerReadUpTo));
        Assert.Equal(fourth.Id, Assert.Single(await app.ConversationsAsync(alice)).PeerReadUpTo);
    }

    [Fact]
    public async Task Sending_a_message_does_not_move_the_senders_own_read_marker()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var greeting = MessageOf(await aliceConnection.SendAsync(bob.Id, "hi"), alice.Id, "hi");
        await bobConnection.MarkReadUpToAsync(alice.Id, greeting);

        await bobConnection.SendAsync(alice.Id, "hi yourself");
        await aliceConnection.SendAsync(bob.Id, "how are you?");

        var bobsView = Assert.Single(await app.ConversationsAsync(bob));
        Assert.Equal((greeting.Id, null, 1), (bobsView.ReadUpTo, bobsView.PeerReadUpTo, bobsView.UnreadCount));
        var alicesView = Assert.Single(await app.ConversationsAsync(alice));
        Assert.Equal((null, greeting.Id, 1), (alicesView.ReadUpTo, alicesView.PeerReadUpTo, alicesView.UnreadCount));
    }

    [Fact]
    public async Task MarkRead_with_an_unknown_message_or_one_of_another_conversation_is_a_HubException_and_the_connection_keeps_working()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        var carol = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var toBob = await aliceConnection.SendAsync(bob.Id, "for bob");
        var toCarol = await aliceConnection.SendAsync(carol.Id, "for carol");

        await AssertHubErrorAsync(() => bobConnection.MarkReadAsync(alice.Id, "nosuchmessage"));
        await AssertHubErrorAsync(() => bobConnection.MarkReadAsync(alice.Id, toCarol.Id));
        await AssertHubErrorAsync(() => bobConnection.MarkReadAsync(carol.Id, toBob.Id));
        await AssertHubErrorAsync(() => bobConnection.MarkReadAsync(carol.Id, toCarol.Id));

        Assert.Null(Assert.Single(await app.ConversationsAsync(bob)).ReadUpTo);
        Assert.Null(Assert.Single(await app.ConversationsAsync(carol)).ReadUpTo);
        Assert.Null(Assert.Single(await app.ConversationsAsync(alice), c => c.Peer.Id == carol.Id).PeerReadUpTo);
        var answer = await bobConnection.MarkReadUpToAsync(alice.Id, MessageOf(toBob, alice.Id, "for bob"));
        Assert.Equal(new ReadMarkerBody(alice.Id, toBob.Id, 0), answer);
    }

    [Fact]
    public async Task In_your_conversation_with_yourself_nothing_is_unread_and_MarkRead_moves_your_marker()
    {
        var alice = await app.CreateUserAsync();
        await using var connection = await app.ConnectAsync(alice);
        var first = MessageOf(await connection.SendAsync(alice.Id, "first note"), alice.Id, "first note");
        await connection.SendAsync(alice.Id, "second note");

        Assert.Equal(new ReadMarkerBody(alice.Id, first.Id, 0), await connection.MarkReadUpToAsync(alice.Id, first));

        var conversation = Assert.Single(await app.ConversationsAsync(alice));
        Assert.Equal((alice.Id, 0, first.Id, first.Id), (conversation.Peer.Id, conversation.UnreadCount, conversation.ReadUpTo, conversation.PeerReadUpTo));
    }
}

[Collection(MySqlRedisChat.Name)]
public sealed class ReadMarkerOnMySqlAndRedisTests(MySqlRedisChat chat) : ReadMarkerTests(chat.App);

[Collection(EmbeddedChat.Name)]
public sealed class ReadMarkerEmbeddedTests(EmbeddedChat chat) : ReadMarkerTests(chat.App);
