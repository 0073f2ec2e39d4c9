using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Chat.Domain.Messaging;
using Chat.Tests.Fixtures;
using Microsoft.AspNetCore.SignalR;
using Xunit.Abstractions;

namespace Chat.Tests.Operations;

/// <summary>
/// A rolling restart: an instance stopped (SIGTERM) under a steady stream of sends drains. It stops within its drain
/// time, every send it acknowledged is stored and reaches the receiver (here through sync), and a send it did not
/// store fails with the contract's error or with the closed connection, never a hang.
/// </summary>
[Collection(MySqlRedisChat.Name)]
public sealed class RollingRestartTests(MySqlRedisChat chat, ITestOutputHelper output)
{
    [Fact]
    public async Task An_instance_stopped_under_a_stream_of_sends_stops_within_its_drain_and_stored_every_send_it_acknowledged()
    {
        await using var stopping = await ChatProcess.StartAsync(Settings.Merge(chat.Stores, new Dictionary<string, string?> { ["Shutdown:DrainSeconds"] = "30" }));
        var alice = await chat.App.CreateUserAsync();
        var bob = await chat.App.CreateUserAsync();
        await using var connection = await stopping.Client.ConnectAsync(alice);

        var acknowledged = new ConcurrentBag<SendReceipt>();
        var refused = new ConcurrentBag<HubException>();
        var sending = Task.WhenAll(Enumerable.Range(0, 4).Select(async sender =>
        {
            for (var n = 0; ; n++)
            {
                try
                {
                    acknowledged.Add(await connection.SendAsync(bob.Id, $"{sender}/{n}", $"r{sender}-{n}"));
                }
                catch (HubException ex)
                {
                    refused.Add(ex);
                    return;
                }
                catch (Exception)
                {
                    return; // the instance closed the connection
                }
            }
        }));
        await Eventually.TrueAsync(() => Task.FromResult(acknowledged.Count >= 100), TimeSpan.FromSeconds(30));

        // Well within the 30 s it may take: a writer that did not end its queue would use them all.
        Assert.Equal(0, await stopping.StopAsync(TimeSpan.FromSeconds(10)));
        await sending.WaitAsync(TimeSpan.FromSeconds(10));
        output.WriteLine($"{acknowledged.Count} sends acknowledged, {refused.Count} refused, before the stop.");

        Assert.All(refused, ex => Assert.Contains("not stored", ex.Message));
        var synced = new List<ChatMessage>();
        SyncBody page = new([], "", HasMore: true);
        while (page.HasMore)
        {
            page = await chat.App.SyncAsync(bob, synced.Count == 0 ? null : page.Cursor, limit: 1000);
            synced.AddRange(page.Messages);
        }

        Assert.Subset(synced.Select(m => m.Id).ToHashSet(), acknowledged.Select(r => r.Id).ToHashSet());
    }

    [Fact]
    public async Task An_instance_stopped_with_users_connected_stores_when_each_of_them_was_last_seen()
    {
        // Embedded, so that no other instance stores their departures: only the stopping one can.
        await using var stopping = await ChatProcess.StartAsync(new Dictionary<string, string?>());
        var users = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => stopping.Client.CreateUserAsync()));
        var connections = await Task.WhenAll(users.Select(u => stopping.Client.ConnectAsync(u)));
        await Eventually.TrueAsync(async () =>
        {
            var online = await stopping.Client.OnlineIdsAsync(users[0]);
            return users.All(u => online.Contains(u.Id));
        });
        var before = DateTimeOffset.UtcNow;

        Assert.Equal(0, await stopping.StopAsync(TimeSpan.FromSeconds(10)));

        await using var database = new SqliteConnection($"Data Source={Path.Combine(stopping.ContentRoot, "App_Data", "chat.db")}");
        await database.OpenAsync();
        await using var query = database.CreateCommand();
        query.CommandText = "SELECT Id, LastSeenAt FROM Users";
        var lastSeen = new Dictionary<string, string?>();
        await using (var rows = await query.ExecuteReaderAsync())
        {
            while (await rows.ReadAsync())
            {
                lastSeen[rows.GetString(0)] = rows.IsDBNull(1) ? null : rows.GetString(1);
            }
        }

        Assert.All(users, user =>
        {
            Assert.True(lastSeen.TryGetValue(user.Id, out var seen) && seen is not null, $"{user.Username} has no last-seen time after the stop");
            Assert.True(DateTimeOffset.Parse(seen!, CultureInfo.InvariantCulture) >= before.AddSeconds(-1), $"{user.Username} was last seen at {seen}, before the stop");
        });
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }
    }
}
