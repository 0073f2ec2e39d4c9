using System.Collections.Concurrent;
using Chat.Domain.Messaging;
using Chat.Tests.Fixtures;
using Xunit.Abstractions;

namespace Chat.Tests.Messaging;

/// <summary>An acknowledged message survives the crash of the instance that acknowledged it.</summary>
[Collection(MySqlRedisChat.Name)]
public sealed class CrashTests(MySqlRedisChat chat, ITestOutputHelper output)
{
    private const int Senders = 4;

    [Fact]
    public async Task Every_message_an_instance_acknowledged_before_a_SIGKILL_is_in_both_users_history_and_sync()
    {
        await using var doomed = await ChatProcess.StartAsync(chat.Stores);
        var alice = await chat.App.CreateUserAsync();
        var bob = await chat.App.CreateUserAsync();
        await using var connection = await doomed.Client.ConnectAsync(alice);

        // Several sends always in flight, so the kill lands between a batch's commit and its receipts as well.
        var acknowledged = new ConcurrentBag<SendReceipt>();
        var sending = Task.WhenAll(Enumerable.Range(0, Senders).Select(async sender =>
        {
            for (var n = 0; ; n++)
            {
                try
                {
                    acknowledged.Add(await connection.SendAsync(bob.Id, $"{sender}/{n}", $"s{sender}-{n}"));
                }
                catch (Exception)
                {
                    return; // the instance is gone
                }
            }
        }));
        await Eventually.TrueAsync(() => Task.FromResult(acknowledged.Count >= 200), TimeSpan.FromSeconds(30));
        doomed.Kill();
        await sending;
        output.WriteLine($"{acknowledged.Count} messages acknowledged before the SIGKILL.");

        foreach (var user in new[] { alice, bob })
        {
            var synced = new List<ChatMessage>();
            SyncBody page = new([], "", HasMore: true);
            while (page.HasMore)
            {
                page = await chat.App.SyncAsync(user, synced.Count == 0 ? null : page.Cursor, limit: 1000);
                synced.AddRange(page.Messages);
            }

            Assert.Subset(synced.Select(m => m.Id).ToHashSet(), acknowledged.Select(r => r.Id).ToHashSet());
        }

        var history = new List<ChatMessage>();
        PageBody older = new([], HasMore: true);
        while (older.HasMore)
        {
            older = await chat.App.HistoryAsync(bob, alice.Id, history.Count == 0 ? "?limit=100" : $"?limit=100&before={history[0].Id}");
            history.InsertRange(0, older.Messages);
        }

        Assert.Subset(history.Select(m => m.Id).ToHashSet(), acknowledged.Select(r => r.Id).ToHashSet());
    }
}
