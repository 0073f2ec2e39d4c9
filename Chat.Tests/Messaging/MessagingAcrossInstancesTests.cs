using Chat.Domain.Messaging;
using Chat.Tests.Fixtures;
using static Chat.Tests.Messaging.MessagingTestKit;

namespace Chat.Tests.Messaging;

/// <summary>
/// "Messages (v2)" with two instances on one database and one Redis: a receipt means stored for every instance, and
/// <c>MessageSent</c>, <c>MessagesRead</c> and idempotent retries reach across them.
/// </summary>
[Collection(MySqlRedisChat.Name)]
public sealed class MessagingAcrossInstancesTests(MySqlRedisChat chat) : IAsyncLifetime
{
    private ChatApp first = null!;
    private ChatApp second = null!;

    public Task InitializeAsync()
    {
        first = chat.App;
        second = chat.StartInstance();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await second.DisposeAsync();

    [Fact]
    public async Task A_receipt_from_one_instance_means_the_other_reads_the_message_at_once()
    {
        var alice = await first.CreateUserAsync();
        var bob = await first.CreateUserAsync();
        await using var aliceConnection = await first.ConnectAsync(alice);

        var receipt = await aliceConnection.SendAsync(bob.Id, "stored", "stored-1");

        var expected = MessageOf(receipt, alice.Id, "stored");
        Assert.Equal([expected], (await second.HistoryAsync(bob, alice.Id)).Messages);
        Assert.Equal([expected], (await second.SyncAsync(bob)).Messages);
        Assert.Equal(expected, Assert.Single(await second.ConversationsAsync(bob)).LastMessage);
    }

    [Fact]
    public async Task MessageSent_reaches_the_senders_connection_on_another_instance_but_not_the_sending_one()
    {
        var alice = await first.CreateUserAsync();
        var bob = await first.CreateUserAsync();
        await using var onFirst = await first.ConnectAsync(alice);
        await using var onSecond = await second.ConnectAsync(alice);
        await using var bobConnection = await second.ConnectAsync(bob);
        var sentToFirst = onFirst.Record<ChatMessage>("MessageSent");
        var sentToSecond = onSecond.Record<ChatMessage>("MessageSent");

        var fromFirst = await onFirst.SendAsync(bob.Id, "from the first instance", "across-1");
        Assert.Equal(MessageOf(fromFirst, alice.Id, "from the first instance"), await sentToSecond.NextAsync());

        // The sending connection's first MessageSent is the other connection's message, not its own.
        var fromSecond = await onSecond.SendAsync(bob.Id, "from the second instance");
        Assert.Equal(MessageOf(fromSecond, alice.Id, "from the second instance"), await sentToFirst.NextAsync());
        var again = await onFirst.SendAsync(bob.Id, "again");
        Assert.Equal(again.Id, (await sentToSecond.NextAsync()).Id);

        Assert.Equal([fromFirst.Id, fromSecond.Id, again.Id], [
            (await bobConnection.NextMessageAsync()).Id, (await bobConnection.NextMessageAsync()).Id, (await bobConnection.NextMessageAsync()).Id]);
    }

    [Fact]
    public async Task Concurrent_senders_on_both_instances_reach_each_connection_of_the_receiver_once_in_the_order_sent()
    {
        // Deliveries cross instances in batches and an instance writes its own at once: none may be lost, doubled
        // (an instance hearing its own batch back) or reordered, on the sender's instance or the other.
        const int PerSender = 150;
        var alice = await first.CreateUserAsync();
        var carol = await first.CreateUserAsync();
        var bob = await first.CreateUserAsync();
        await using var aliceConnection = await first.ConnectAsync(alice);
        await using var carolConnection = await second.ConnectAsync(carol);
        await using var bobOnFirst = await first.ConnectAsync(bob);
        await using var bobOnSecond = await second.ConnectAsync(bob);

        // All of a sender's calls in flight at once: its connection stores and delivers them in the order called.
        Task<SendReceipt[]> SendAll(ChatConnection connection, string name) =>
            Task.WhenAll(Enumerable.Range(0, PerSender).Select(i => connection.SendAsync(bob.Id, $"{name} {i}")));
        var sent = await Task.WhenAll(SendAll(aliceConnection, "alice"), SendAll(carolConnection, "carol"));
        // A last message from each: whatever came twice would come before it.
        var last = await Task.WhenAll(aliceConnection.SendAsync(bob.Id, "alice's last"), carolConnection.SendAsync(bob.Id, "carol's last"));

        foreach (var bobConnection in new[] { bobOnFirst, bobOnSecond })
        {
            var bySender = new Dictionary<string, List<string>> { [alice.Id] = [], [carol.Id] = [] };
            while (bySender.Values.Sum(ids => ids.Count) < 2 * (PerSender + 1))
            {
                var message = await bobConnection.NextMessageAsync();
                bySender[message.SenderId].Add(message.Id);
            }

            Assert.Equal([.. sent[0].Select(r => r.Id), last[0].Id], bySender[alice.Id]);
            Assert.Equal([.. sent[1].Select(r => r.Id), last[1].Id], bySender[carol.Id]);
        }
    }

    [Fact]
    public async Task MessagesRead_reaches_every_connection_of_both_users_on_either_instance()
    {
        var alice = await first.CreateUserAsync();
        var bob = await first.CreateUserAsync();
        await using var aliceOnFirst = await first.ConnectAsync(alice);
        await using var aliceOnSecond = await second.ConnectAsync(alice);
        await using var bobOnFirst = await first.ConnectAsync(bob);
        await using var bobOnSecond = await second.ConnectAsync(bob);
        var events = new[] { aliceOnFirst, aliceOnSecond, bobOnFirst, bobOnSecond }.Select(c => c.Record<MessagesReadBody>("MessagesRead")).ToList();
        var message = MessageOf(await aliceOnFirst.SendAsync(bob.Id, "read me"), alice.Id, "read me");

        Assert.Equal(new ReadMarkerBody(alice.Id, message.Id, 0), await bobOnSecond.MarkReadUpToAsync(alice.Id, message));

        foreach (var connection in events)
        {
            var read = await connection.NextAsync();
            Assert.Equal((bob.Id, alice.Id, message.Id), (read.ReaderId, read.PeerId, read.UpToId));
        }

        Assert.Equal(message.Id, Assert.Single(await first.ConversationsAsync(alice)).PeerReadUpTo);
    }

    [Fact]
    public async Task A_retry_on_another_instance_returns_the_first_receipt_and_delivers_nothing_new()
    {
        var alice = await first.CreateUserAsync();
        var bob = await first.CreateUserAsync();
        await using var onFirst = await first.ConnectAsync(alice);
        await using var onSecond = await second.ConnectAsync(alice);
        await using var bobConnection = await second.ConnectAsync(bob);
        var clientMessageId = Guid.NewGuid().ToString();

        var original = await onFirst.SendAsync(bob.Id, "once", clientMessageId);
        var retried = await onSecond.SendAsync(bob.Id, "once", clientMessageId);
        await AssertHubErrorAsync(() => onSecond.SendAsync(bob.Id, "twice?", clientMessageId), "clientMessageId", "already used");

        Assert.Equal(original, retried);
        var next = await onSecond.SendAsync(bob.Id, "next");
        Assert.Equal(original.Id, (await bobConnection.NextMessageAsync()).Id);
        Assert.Equal(next.Id, (await bobConnection.NextMessageAsync()).Id);
        Assert.Equal([original.Id, next.Id], (await first.SyncAsync(bob)).Messages.Select(m => m.Id));
    }

    [Fact]
    public async Task A_stored_message_outlives_the_instance_that_stored_it()
    {
        var alice = await first.CreateUserAsync();
        var bob = await first.CreateUserAsync();
        SendReceipt receipt;
        await using (var leaving = chat.StartInstance())
        {
            await using var connection = await leaving.ConnectAsync(alice);
            receipt = await connection.SendAsync(bob.Id, "still here after you go");
        }

        var expected = MessageOf(receipt, alice.Id, "still here after you go");
        Assert.Equal([expected], (await first.SyncAsync(bob)).Messages);
        Assert.Equal([expected], (await second.HistoryAsync(alice, bob.Id)).Messages);
    }
}
