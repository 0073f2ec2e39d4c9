using System.Collections.Concurrent;
using Chat.Domain.Messaging;
using Chat.Tests.Fixtures;
using Xunit.Abstractions;

namespace Chat.Tests.Messaging;

/// <summary>
/// The sync's promise under concurrency: while two instances store messages for one receiver at the same time, a
/// client that syncs in a loop with each answer's cursor gets every acknowledged message exactly once, in one order
/// that agrees with every conversation's history.
/// </summary>
[Collection(MySqlRedisChat.Name)]
public sealed class SyncOrderTests(MySqlRedisChat chat, ITestOutputHelper output)
{
    private const int SendersPerInstance = 4;
    private const int MessagesPerSender = 50;

    [Fact]
    public async Task Two_instances_storing_for_one_receiver_while_it_syncs_hand_out_every_message_exactly_once()
    {
        await using var second = chat.StartInstance();
        var instances = new[] { chat.App, second };
        var bob = await chat.App.CreateUserAsync();
        var senders = new List<(TestUser User, ChatConnection Connection)>();
        for (var i = 0; i < 2 * SendersPerInstance; i++)
        {
            var user = await chat.App.CreateUserAsync();
            senders.Add((user, await instances[i % 2].ConnectAsync(user)));
        }

        var acknowledged = new ConcurrentBag<SendReceipt>();
        var sending = Task.WhenAll(senders.Select(async sender =>
        {
            for (var n = 0; n < MessagesPerSender; n++)
            {
                acknowledged.Add(await sender.Connection.SendAsync(bob.Id, $"{sender.User.Username} #{n}", $"m{n}"));
            }
        }));

        // Small pages, alternating instances, for as long as messages are being stored, then once more to the end.
        var synced = new List<ChatMessage>();
        string? cursor = null;
        var pages = 0;
        async Task SyncOnceAsync()
        {
            var page = await instances[pages++ % 2].SyncAsync(bob, cursor, limit: 7);
            Assert.True(!page.HasMore || page.Messages.Count > 0, "hasMore with an empty page");
            synced.AddRange(page.Messages);
            cursor = page.Cursor;
        }

        while (!sending.IsCompleted)
        {
            await SyncOnceAsync();
        }

        await sending;
        SyncBody last;
        do
        {
            await SyncOnceAsync();
            last = await chat.App.SyncAsync(bob, cursor, limit: 7);
        }
        while (last.Messages.Count > 0);
        output.WriteLine($"{acknowledged.Count} messages from {senders.Count} senders on two instances, synced in {pages} pages.");

        Assert.Equal(synced.Count, synced.Select(m => m.Id).Distinct().Count()); // no repeat
        Assert.Equal(acknowledged.Select(r => r.Id).Order(), synced.Select(m => m.Id).Order()); // no gap
        foreach (var (user, _) in senders)
        {
            // Each sender waited for every receipt before sending the next: stored, and synced, in that order.
            var fromSender = synced.Where(m => m.SenderId == user.Id).Select(m => m.Text).ToList();
            Assert.Equal(Enumerable.Range(0, MessagesPerSender).Select(n => $"{user.Username} #{n}"), fromSender);

            // One stored order: the conversation's history agrees with the sync.
            var history = await chat.App.HistoryAsync(bob, user.Id, "?limit=100");
            Assert.Equal(fromSender, history.Messages.Select(m => m.Text));
        }

        foreach (var (_, connection) in senders)
        {
            await connection.DisposeAsync();
        }
    }
}
