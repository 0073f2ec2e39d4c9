using System.Diagnostics;
using System.Net;
using Chat.Domain.Messaging;
using Chat.Tests.Fixtures;
using Microsoft.AspNetCore.SignalR;
using Xunit.Abstractions;
using static Chat.Tests.Messaging.MessagingTestKit;

namespace Chat.Tests.Messaging;

/// <summary>
/// "Messages (v2)", faults: while the database is unreachable nothing is acknowledged that is not stored, reads say
/// 503, and the same connections send again once it is back. The instance reaches MariaDB through a proxy the test
/// stops, so the database stays up for every other test.
/// </summary>
[Collection(MySqlRedisChat.Name)]
public sealed class DatabaseOutageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task While_the_database_is_down_sends_fail_saying_not_stored_reads_answer_503_and_the_same_connection_sends_again_when_it_is_back()
    {
        await using var database = await ProxiedDatabase.CreateAsync();
        var proxy = database.Proxy;
        await using var app = ChatApp.Start(database.Settings);
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var before = await aliceConnection.SendAsync(bob.Id, "before the outage");
        Assert.Equal(before.Id, (await bobConnection.NextMessageAsync()).Id);

        proxy.Stop();

        var clock = Stopwatch.StartNew();
        await AssertHubErrorAsync(() => aliceConnection.SendAsync(bob.Id, "during the outage", "outage-1"), "not stored");
        output.WriteLine($"Send failed after {clock.Elapsed.TotalSeconds:0.0} s.");
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));

        clock.Restart();
        await AssertHubErrorAsync(() => aliceConnection.SendRawAsync($"{bob.Id}:raw during the outage"), "not stored");
        output.WriteLine($"SendRaw failed after {clock.Elapsed.TotalSeconds:0.0} s.");
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));

        foreach (var path in new[] { "/api/conversations", $"/api/conversations/{bob.Id}/messages", "/api/sync" })
        {
            await app.AssertProblemAsync(alice, path, HttpStatusCode.ServiceUnavailable);
        }

        proxy.Resume();
        clock.Restart();

        // The client retries its send, same key, on the same connection, until it is stored.
        var attempts = 0;
        SendReceipt? stored = null;
        await Eventually.TrueAsync(async () =>
        {
            attempts++;
            try
            {
                stored = await aliceConnection.SendAsync(bob.Id, "during the outage", "outage-1");
                return true;
            }
            catch (HubException ex) when (ex.Message.Contains("not stored", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), "Sends on the same connection did not work again within 30 s of the database coming back.");
        output.WriteLine($"Stored again {clock.Elapsed.TotalSeconds:0.0} s after the database came back, at attempt {attempts}.");

        // Nothing of the failed calls was stored or delivered: Bob's next message is the one that was stored.
        Assert.Equal(stored!.Id, (await bobConnection.NextMessageAsync()).Id);
        var after = await aliceConnection.SendAsync(bob.Id, "after the outage");
        Assert.Equal(after.Id, (await bobConnection.NextMessageAsync()).Id);
        Assert.Equal(
            ["before the outage", "during the outage", "after the outage"],
            (await app.HistoryAsync(bob, alice.Id)).Messages.Select(m => m.Text));
        Assert.Equal([before.Id, stored.Id, after.Id], (await app.SyncAsync(alice)).Messages.Select(m => m.Id));
        Assert.Equal(3, Assert.Single(await app.ConversationsAsync(bob)).UnreadCount);
    }

    [Fact]
    public async Task A_send_after_the_database_dropped_every_connection_is_stored_at_the_first_attempt()
    {
        await using var database = await ProxiedDatabase.CreateAsync();
        await using var app = ChatApp.Start(database.Settings);
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var before = await aliceConnection.SendAsync(bob.Id, "before");
        Assert.Equal(before.Id, (await bobConnection.NextMessageAsync()).Id);

        // The database drops every connection (a restart, a failover) while nobody sends: the writer's own connection
        // is dead when the next send comes, which must not fail for it.
        database.Proxy.Stop();
        database.Proxy.Resume();

        var after = await aliceConnection.SendAsync(bob.Id, "after");
        Assert.Equal(after.Id, (await bobConnection.NextMessageAsync()).Id);
        Assert.Equal(["before", "after"], (await app.HistoryAsync(bob, alice.Id)).Messages.Select(m => m.Text));
    }

    [Fact]
    public async Task An_instance_stopped_while_the_database_is_down_exits_cleanly_within_its_drain()
    {
        await using var database = await ProxiedDatabase.CreateAsync();
        await using var instance = await ChatProcess.StartAsync(
            Settings.Merge(database.Settings, new Dictionary<string, string?> { ["Shutdown:DrainSeconds"] = "1" }));
        var alice = await instance.Client.CreateUserAsync();
        await using var connection = await instance.Client.ConnectAsync(alice);

        database.Proxy.Stop();

        // Alice leaves as the instance stops, and her last-seen time cannot be stored: the drain runs out first.
        Assert.Equal(0, await instance.StopAsync(TimeSpan.FromSeconds(30)));
    }
}
