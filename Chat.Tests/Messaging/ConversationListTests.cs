using System.Net;
using Chat.Tests.Fixtures;
using static Chat.Tests.Messaging.MessagingTestKit;

namespace Chat.Tests.Messaging;

/// <summary>"Messages (v2)", <c>GET /api/conversations</c>: order, paging, counts, and your conversation with yourself.</summary>
public abstract class ConversationListTests(ChatApp app)
{
    [Fact]
    public async Task Conversations_list_the_one_with_the_most_recently_stored_message_first_with_peer_and_last_message()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        var carol = await app.CreateUserAsync();
        var dave = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        await using var carolConnection = await app.ConnectAsync(carol);

        await aliceConnection.SendAsync(bob.Id, "to bob");
        var fromCarol = await carolConnection.SendAsync(alice.Id, "from carol");
        var toDave = await aliceConnection.SendAsync(dave.Id, "to dave");
        var fromBob = await bobConnection.SendAsync(alice.Id, "from bob");

        var conversations = await app.ConversationsAsync(alice);

        Assert.Equal([bob.Id, dave.Id, carol.Id], conversations.Select(c => c.Peer.Id));
        Assert.Equal([bob.Username, dave.Username, carol.Username], conversations.Select(c => c.Peer.Username));
        Assert.All(conversations, c => Assert.StartsWith("https://", c.Peer.AvatarUrl));
        Assert.Equal(
            [MessageOf(fromBob, bob.Id, "from bob"), MessageOf(toDave, alice.Id, "to dave"), MessageOf(fromCarol, carol.Id, "from carol")],
            conversations.Select(c => c.LastMessage));
        Assert.Equal([1, 0, 1], conversations.Select(c => c.UnreadCount));

        var json = await app.GetJsonAsync(alice, "/api/conversations");
        Assert.All(json.EnumerateArray(), c =>
        {
            Assert.Equal(["lastMessage", "peer", "peerReadUpTo", "readUpTo", "unreadCount"], FieldsOf(c));
            Assert.Equal(["avatarUrl", "id", "username"], FieldsOf(c.GetProperty("peer")).Except(["online", "lastSeenAt"]));
            AssertIsMessage(c.GetProperty("lastMessage"));
        });
    }

    [Fact]
    public async Task A_new_message_moves_its_conversation_to_the_top_and_a_user_without_messages_has_no_conversations()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        var carol = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        Assert.Empty(await app.ConversationsAsync(alice));

        await aliceConnection.SendAsync(bob.Id, "first");
        await aliceConnection.SendAsync(carol.Id, "second");
        Assert.Equal([carol.Id, bob.Id], (await app.ConversationsAsync(alice)).Select(c => c.Peer.Id));

        await aliceConnection.SendAsync(bob.Id, "third");
        Assert.Equal([bob.Id, carol.Id], (await app.ConversationsAsync(alice)).Select(c => c.Peer.Id));
        Assert.Equal("third", (await app.ConversationsAsync(alice))[0].LastMessage.Text);
    }

    [Fact]
    public async Task Before_a_last_message_id_pages_through_the_conversations_whose_last_message_was_stored_before_it()
    {
        var alice = await app.CreateUserAsync();
        var peers = new List<TestUser>();
        await using var aliceConnection = await app.ConnectAsync(alice);
        for (var i = 0; i < 5; i++)
        {
            var peer = await app.CreateUserAsync();
            peers.Add(peer);
            await aliceConnection.SendAsync(peer.Id, $"to peer {i}");
        }

        var newestFirst = peers.Select(p => p.Id).Reverse().ToList();
        var collected = new List<string>();
        var page = await app.ConversationsAsync(alice, "?limit=2");
        while (page.Count > 0)
        {
            Assert.InRange(page.Count, 1, 2);
            collected.AddRange(page.Select(c => c.Peer.Id));
            page = await app.ConversationsAsync(alice, $"?limit=2&before={page[^1].LastMessage.Id}");
        }

        Assert.Equal(newestFirst, collected);
        Assert.Equal(newestFirst[..3], (await app.ConversationsAsync(alice, "?limit=3")).Select(c => c.Peer.Id));
        Assert.Equal(newestFirst, (await app.ConversationsAsync(alice, "?limit=100")).Select(c => c.Peer.Id));
        Assert.Equal(newestFirst[1..], (await app.ConversationsAsync(alice, $"?before={(await app.ConversationsAsync(alice))[0].LastMessage.Id}")).Select(c => c.Peer.Id));
    }

    public static TheoryData<string> BadLimits => new() { "0", "101", "abc", "-1" };

    [Theory]
    [MemberData(nameof(BadLimits))]
    public async Task A_limit_that_is_not_1_to_100_is_a_400_problem(string limit)
    {
        var alice = await app.CreateUserAsync();

        await app.AssertProblemAsync(alice, $"/api/conversations?limit={limit}", HttpStatusCode.BadRequest, "limit");
    }

    [Fact]
    public async Task A_before_that_is_not_the_last_message_id_of_one_of_the_callers_conversations_is_a_400_problem()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        var carol = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var notLast = await aliceConnection.SendAsync(bob.Id, "no longer the last");
        await aliceConnection.SendAsync(bob.Id, "the last");
        var othersLast = await bobConnection.SendAsync(carol.Id, "between bob and carol");

        foreach (var before in new[] { notLast.Id, othersLast.Id, "nosuchmessage" })
        {
            await app.AssertProblemAsync(alice, $"/api/conversations?before={before}", HttpStatusCode.BadRequest, "before");
        }
    }

    [Fact]
    public async Task Your_conversation_with_yourself_is_listed_with_you_as_the_peer_and_your_own_messages_are_never_unread()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);

        await aliceConnection.SendAsync(alice.Id, "note one");
        var toBob = await aliceConnection.SendAsync(bob.Id, "to bob");
        var note = await aliceConnection.SendAsync(alice.Id, "note two");

        var conversations = await app.ConversationsAsync(alice);
        Assert.Equal([alice.Id, bob.Id], conversations.Select(c => c.Peer.Id));
        Assert.Equal(alice.Username, conversations[0].Peer.Username);
        Assert.Equal(MessageOf(note, alice.Id, "note two"), conversations[0].LastMessage);
        Assert.Equal(MessageOf(toBob, alice.Id, "to bob"), conversations[1].LastMessage);
        Assert.Equal([0, 0], conversations.Select(c => c.UnreadCount));
        Assert.All(conversations, c => Assert.Null(c.ReadUpTo));

        var page = await app.ConversationsAsync(alice, $"?before={note.Id}");
        Assert.Equal([bob.Id], page.Select(c => c.Peer.Id));
    }
}

[Collection(MySqlRedisChat.Name)]
public sealed class ConversationListOnMySqlAndRedisTests(MySqlRedisChat chat) : ConversationListTests(chat.App);

[Collection(EmbeddedChat.Name)]
public sealed class ConversationListEmbeddedTests(EmbeddedChat chat) : ConversationListTests(chat.App);
