using System.Net;
using Chat.Domain.Messaging;
using Chat.Tests.Fixtures;
using static Chat.Tests.Messaging.MessagingTestKit;

namespace Chat.Tests.Messaging;

/// <summary>"Messages (v2)": nobody reads a conversation they are not part of.</summary>
public abstract class PrivacyTests(ChatApp app)
{
    [Fact]
    public async Task A_third_user_never_sees_a_message_of_others_in_history_sync_or_conversations()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        var carol = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        await using var carolConnection = await app.ConnectAsync(carol);
        var secret = await aliceConnection.SendAsync(bob.Id, "just between us");
        var answer = await bobConnection.SendAsync(alice.Id, "agreed");
        var own = await carolConnection.SendAsync(alice.Id, "hello alice, carol here");

        // Carol's own conversation with Alice holds only her message; with Bob, nothing.
        Assert.Equal([own.Id], (await app.HistoryAsync(carol, alice.Id)).Messages.Select(m => m.Id));
        Assert.Empty((await app.HistoryAsync(carol, bob.Id)).Messages);
        Assert.Equal([own.Id], (await app.SyncAllAsync(carol)).Select(m => m.Id));
        Assert.Equal([alice.Id], (await app.ConversationsAsync(carol)).Select(c => c.Peer.Id));

        // A message id of theirs gets her nothing either: not a cursor of hers, not a marker she can set.
        await app.AssertProblemAsync(carol, $"/api/conversations/{alice.Id}/messages?before={secret.Id}", HttpStatusCode.BadRequest, "before");
        await app.AssertProblemAsync(carol, $"/api/conversations/{bob.Id}/messages?after={secret.Id}", HttpStatusCode.BadRequest, "after");
        await app.AssertProblemAsync(carol, $"/api/conversations?before={answer.Id}", HttpStatusCode.BadRequest, "before");
        await AssertHubErrorAsync(() => carolConnection.MarkReadAsync(alice.Id, secret.Id));
        await AssertHubErrorAsync(() => carolConnection.MarkReadAsync(bob.Id, answer.Id));
        Assert.Null((await app.ConversationsAsync(alice)).Single(c => c.Peer.Id == bob.Id).PeerReadUpTo);

        // And Alice and Bob see theirs, Carol's excepted.
        Assert.Equal([secret.Id, answer.Id], (await app.HistoryAsync(bob, alice.Id)).Messages.Select(m => m.Id));
        Assert.Equal([secret.Id, answer.Id], (await app.SyncAllAsync(bob)).Select(m => m.Id));
        Assert.Equal([alice.Id], (await app.ConversationsAsync(bob)).Select(c => c.Peer.Id));
        Assert.Equal([secret.Id, answer.Id, own.Id], (await app.SyncAllAsync(alice)).Select(m => m.Id));
    }

    [Fact]
    public async Task Live_messages_reach_only_the_receiver_not_a_third_user()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        var carol = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        await using var carolConnection = await app.ConnectAsync(carol);
        var carolSent = carolConnection.Record<ChatMessage>("MessageSent");

        await aliceConnection.SendAsync(bob.Id, "just between us");
        await bobConnection.NextMessageAsync();

        // Carol's first message and first MessageSent are her own business, after Alice's message was delivered.
        var toCarol = await aliceConnection.SendAsync(carol.Id, "for carol");
        Assert.Equal(toCarol.Id, (await carolConnection.NextMessageAsync()).Id);
        await using var carolLaptop = await app.ConnectAsync(carol);
        var fromCarol = await carolLaptop.SendAsync(alice.Id, "carol's own");
        Assert.Equal(fromCarol.Id, (await carolSent.NextAsync()).Id);
    }
}

[Collection(MySqlRedisChat.Name)]
public sealed class PrivacyOnMySqlAndRedisTests(MySqlRedisChat chat) : PrivacyTests(chat.App);

[Collection(EmbeddedChat.Name)]
public sealed class PrivacyEmbeddedTests(EmbeddedChat chat) : PrivacyTests(chat.App);
