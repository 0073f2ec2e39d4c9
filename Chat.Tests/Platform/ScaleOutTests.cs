using System.Diagnostics;
using System.Net;
using Chat.Tests.Fixtures;
using Xunit.Abstractions;

namespace Chat.Tests.Platform;

/// <summary>Two instances on one database and one Redis behave as one service.</summary>
[Collection(MySqlRedisChat.Name)]
public sealed class ScaleOutTests(MySqlRedisChat chat, ITestOutputHelper output) : IAsyncLifetime
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
    public async Task Messages_cross_instances_both_ways()
    {
        var alice = await first.CreateUserAsync();
        var bob = await second.CreateUserAsync();
        await using var aliceConnection = await first.ConnectAsync(alice);
        await using var bobConnection = await second.ConnectAsync(bob);

        await aliceConnection.SendRawAsync($"{bob.Id}:hello from the first instance");
        await bobConnection.SendRawAsync($"{alice.Id}:hello from the second instance");

        Assert.Equal("hello from the first instance", (await bobConnection.NextMessageAsync()).Text);
        Assert.Equal("hello from the second instance", (await aliceConnection.NextMessageAsync()).Text);
    }

    [Fact]
    public async Task A_receiver_connected_to_both_instances_gets_the_message_on_every_connection()
    {
        var alice = await first.CreateUserAsync();
        var bob = await first.CreateUserAsync();
        await using var aliceConnection = await second.ConnectAsync(alice);
        await using var bobOnFirst = await first.ConnectAsync(bob);
        await using var bobOnSecond = await second.ConnectAsync(bob);

        await aliceConnection.SendRawAsync($"{bob.Id}:everywhere");

        Assert.Equal("everywhere", (await bobOnFirst.NextMessageAsync()).Text);
        Assert.Equal("everywhere", (await bobOnSecond.NextMessageAsync()).Text);
    }

    [Fact]
    public async Task Either_instance_lists_users_connected_to_the_other()
    {
        var alice = await first.CreateUserAsync();
        var bob = await second.CreateUserAsync();
        await using var aliceConnection = await first.ConnectAsync(alice);
        await using var bobConnection = await second.ConnectAsync(bob);

        await Eventually.TrueAsync(async () => (await first.OnlineIdsAsync(alice)).Contains(bob.Id));
        await Eventually.TrueAsync(async () => (await second.OnlineIdsAsync(bob)).Contains(alice.Id));
    }

    [Fact]
    public async Task A_refresh_token_issued_by_one_instance_refreshes_on_the_other_and_reuse_is_caught_on_either()
    {
        var alice = await first.CreateUserAsync();

        var refreshed = await second.RefreshAsync(alice.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var replacement = await ChatClient.RefreshTokenOf(refreshed);

        Assert.Equal(HttpStatusCode.Unauthorized, (await first.RefreshAsync(alice.RefreshToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await second.RefreshAsync(replacement)).StatusCode);
    }

    [Fact]
    public async Task A_clean_shutdown_removes_its_users_at_once()
    {
        var alice = await first.CreateUserAsync();
        var bob = await first.CreateUserAsync();
        var leaving = chat.StartInstance();
        var bobConnection = await leaving.ConnectAsync(bob);
        await Eventually.TrueAsync(async () => (await first.OnlineIdsAsync(alice)).Contains(bob.Id));

        await leaving.DisposeAsync();

        await Eventually.TrueAsync(async () => !(await first.OnlineIdsAsync(alice)).Contains(bob.Id), TimeSpan.FromSeconds(3));
        await bobConnection.DisposeAsync();
    }

    [Fact]
    public async Task A_crashed_instance_users_leave_the_online_list_within_the_presence_TTL()
    {
        // The instance reaches Redis through a proxy: cutting it stops its heartbeat as a crash would, while the
        // WebSocket to the instance stays up.
        await using var proxy = await TcpProxy.ForSharedRedisAsync();
        await using var crashing = chat.StartInstance(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = $"127.0.0.1:{proxy.Port}",
            ["Presence:TtlSeconds"] = "3",
        });
        var alice = await first.CreateUserAsync();
        var bob = await first.CreateUserAsync();
        await using var bobConnection = await crashing.ConnectAsync(bob);
        await Eventually.TrueAsync(async () => (await first.OnlineIdsAsync(alice)).Contains(bob.Id));

        var clock = Stopwatch.StartNew();
        proxy.Stop();

        await Eventually.TrueAsync(async () => !(await first.OnlineIdsAsync(alice)).Contains(bob.Id), TimeSpan.FromSeconds(3 + 1 + 2));
        output.WriteLine($"Presence expired {clock.Elapsed.TotalSeconds:0.0} s after the heartbeat stopped (TTL 3 s).");
    }

    [Fact]
    public async Task While_Redis_is_down_sends_are_stored_and_acknowledged_and_reach_the_receiver_through_sync_when_it_is_back()
    {
        await using var redis = await PrivateRedis.StartNewAsync();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Presence:TtlSeconds"] = "3",
        };
        await using var one = chat.StartInstance(settings);
        await using var two = chat.StartInstance(settings);
        var alice = await one.CreateUserAsync();
        var bob = await two.CreateUserAsync();
        await using var aliceConnection = await one.ConnectAsync(alice);
        await using var bobConnection = await two.ConnectAsync(bob);
        var syncNeeded = bobConnection.RecordSignal("SyncNeeded");
        await aliceConnection.SendRawAsync($"{bob.Id}:before");
        Assert.Equal("before", (await bobConnection.NextMessageAsync()).Text);
        var cursor = (await two.SyncAsync(bob)).Cursor;

        await redis.StopAsync();

        var during = await aliceConnection.SendRawAsync($"{bob.Id}:during");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await one.Http.GetAsync("/health/ready")).StatusCode);
        var login = await one.LoginAsync(alice.Username, alice.Password);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, login.StatusCode);
        Assert.Equal("application/problem+json", login.Content.Headers.ContentType?.MediaType);

        await redis.StartAsync();
        var clock = Stopwatch.StartNew();

        // The receiver is told to sync, and the sync hands out what was stored during the outage.
        await syncNeeded.NextAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"SyncNeeded {clock.Elapsed.TotalSeconds:0.0} s after Redis came back.");
        var missed = await two.SyncAsync(bob, cursor);
        Assert.Equal([during.Id], missed.Messages.Select(m => m.Id));
        Assert.Equal("during", missed.Messages[0].Text);

        // Delivered end to end again, not merely accepted: the receiving instance must have subscribed again too.
        await Eventually.TrueAsync(async () =>
        {
            await aliceConnection.SendRawAsync($"{bob.Id}:after");
            try
            {
                while (true)
                {
                    if ((await bobConnection.NextMessageAsync(TimeSpan.FromSeconds(1))).Text == "after")
                    {
                        return true;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30));
        output.WriteLine($"Delivery resumed {clock.Elapsed.TotalSeconds:0.0} s after Redis came back.");

        // Redis came back empty: both instances register their users again.
        await Eventually.TrueAsync(async () =>
        {
            var online = await one.OnlineIdsAsync(alice);
            return online.Contains(alice.Id) && online.Contains(bob.Id);
        }, TimeSpan.FromSeconds(30));
        output.WriteLine($"Both users listed again {clock.Elapsed.TotalSeconds:0.0} s after Redis came back.");
        Assert.Equal(HttpStatusCode.OK, (await one.Http.GetAsync("/health/ready")).StatusCode);
    }
}
