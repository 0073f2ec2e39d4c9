using System.Net;
using System.Net.Http.Json;
using Chat.Api.Platform.RateLimiting;
using Chat.Tests.Fixtures;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Chat.Tests.Platform;

/// <summary>
/// Each test sends its auth calls as its own client: a fresh X-Forwarded-For address, believed because the test client
/// is on loopback, which is a trusted proxy by default. So tests sharing one Redis never share a budget.
/// </summary>
[Collection(MySqlRedisChat.Name)]
public sealed class RateLimitTests(MySqlRedisChat chat)
{
    private static string NewClientIp() => $"10.{Random.Shared.Next(256)}.{Random.Shared.Next(256)}.{Random.Shared.Next(1, 255)}";

    private static Dictionary<string, string?> AuthLimit(int permits) => new()
    {
        ["RateLimiting:Auth:PermitLimit"] = permits.ToString(),
        ["RateLimiting:Auth:WindowSeconds"] = "60",
    };

    private static Dictionary<string, string?> MessageLimit(int perSecond, int burst) => new()
    {
        ["RateLimiting:Messages:PermitsPerSecond"] = perSecond.ToString(),
        ["RateLimiting:Messages:Burst"] = burst.ToString(),
    };

    /// <summary>An auth call that needs neither the database nor Redis: an invalid signup (400) still counts.</summary>
    private static async Task<HttpResponseMessage> AuthCallAsync(ChatApp app, string clientIp, string path = "/api/auth/signup")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(new { }) };
        request.Headers.Add("X-Forwarded-For", clientIp);
        return await app.Http.SendAsync(request);
    }

    [Fact]
    public async Task Signup_login_and_refresh_share_one_budget_and_the_next_call_gets_429_with_Retry_After()
    {
        await using var app = chat.StartInstance(AuthLimit(3));
        var client = NewClientIp();

        Assert.Equal(HttpStatusCode.BadRequest, (await AuthCallAsync(app, client, "/api/auth/signup")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await AuthCallAsync(app, client, "/api/auth/login")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await AuthCallAsync(app, client, "/api/auth/refresh")).StatusCode);
        var limited = await AuthCallAsync(app, client, "/api/auth/login");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        var retryAfter = int.Parse(Assert.Single(limited.Headers.GetValues("Retry-After")));
        Assert.InRange(retryAfter, 1, 60);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.Equal(429, (await limited.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>())!.Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await AuthCallAsync(app, NewClientIp())).StatusCode);
    }

    [Fact]
    public async Task X_Forwarded_For_is_ignored_unless_the_peer_is_a_trusted_proxy()
    {
        var settings = AuthLimit(3);
        settings["ForwardedHeaders:KnownProxies:0"] = "10.255.255.1";
        await using var app = chat.StartInstance(settings);

        // The peer (loopback) is not trusted here: every call counts against the peer's own budget, whatever it claims.
        HttpResponseMessage response;
        var calls = 0;
        do
        {
            response = await AuthCallAsync(app, NewClientIp());
            calls++;
        }
        while (response.StatusCode != HttpStatusCode.TooManyRequests && calls < 10);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await AuthCallAsync(app, NewClientIp())).StatusCode);
    }

    [Fact]
    public async Task Two_instances_together_admit_no_more_auth_calls_than_one()
    {
        await using var first = chat.StartInstance(AuthLimit(4));
        await using var second = chat.StartInstance(AuthLimit(4));
        var client = NewClientIp();

        foreach (var app in new[] { first, second, first, second })
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await AuthCallAsync(app, client)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await AuthCallAsync(first, client)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await AuthCallAsync(second, client)).StatusCode);
    }

    [Fact]
    public async Task Over_the_message_limit_SendRaw_fails_saying_rate_limit_and_the_connection_stays_usable()
    {
        await using var app = chat.StartInstance(MessageLimit(perSecond: 2, burst: 3));
        var user = await app.CreateUserAsync();
        await using var connection = await app.ConnectAsync(user);

        // Rejected calls count too.
        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<HubException>(() => connection.SendRawAsync("no separator"));
        }

        var limited = await Assert.ThrowsAsync<HubException>(() => connection.SendRawAsync($"{user.Id}:one too many"));
        Assert.Contains("rate limit", limited.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("try again in", limited.Message, StringComparison.OrdinalIgnoreCase);

        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await connection.SendRawAsync($"{user.Id}:later");
                return true;
            }
            catch (HubException)
            {
                return false;
            }
        });
        Assert.Equal("later", (await connection.NextMessageAsync()).Text);
    }

    [Fact]
    public async Task Two_instances_together_admit_no_more_messages_of_one_user_than_one()
    {
        const int burst = 6;
        await using var first = chat.StartInstance(MessageLimit(perSecond: 1, burst));
        await using var second = chat.StartInstance(MessageLimit(perSecond: 1, burst));
        var user = await first.CreateUserAsync();
        await using var onFirst = await first.ConnectAsync(user);
        await using var onSecond = await second.ConnectAsync(user);

        var admitted = 0;
        for (var i = 0; i < 2 * burst; i++)
        {
            try
            {
                await (i % 2 == 0 ? onFirst : onSecond).SendRawAsync($"{user.Id}:{i}");
                admitted++;
            }
            catch (HubException ex) when (ex.Message.Contains("rate limit", StringComparison.OrdinalIgnoreCase))
            {
            }
        }

        // Separate budgets would admit all twelve; one shared bucket admits its burst, plus what refills meanwhile.
        Assert.InRange(admitted, burst, burst + 2);
    }

    [Fact]
    public async Task Concurrent_sends_of_one_user_on_two_instances_get_the_burst_exactly_neither_more_nor_less()
    {
        // The sends of a burst reach each instance's limiter together and are checked in Redis together: that must
        // admit as many as the bucket holds, each once.
        const int burst = 20;
        await using var first = chat.StartInstance(MessageLimit(perSecond: 1, burst));
        await using var second = chat.StartInstance(MessageLimit(perSecond: 1, burst));
        var user = await first.CreateUserAsync();
        await using var onFirst = await first.ConnectAsync(user);
        await using var onSecond = await second.ConnectAsync(user);

        async Task<bool> AdmittedAsync(ChatConnection connection, int i)
        {
            try
            {
                await connection.SendRawAsync($"{user.Id}:{i}");
                return true;
            }
            catch (HubException ex) when (ex.Message.Contains("rate limit", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        var sends = Enumerable.Range(0, 3 * burst).Select(i => AdmittedAsync(i % 2 == 0 ? onFirst : onSecond, i));
        var admitted = (await Task.WhenAll(sends)).Count(ok => ok);

        // The bucket's burst, plus what refills (1/s) while the sends run.
        Assert.InRange(admitted, burst, burst + 3);
        Assert.Equal(admitted, (await first.SyncAsync(user)).Messages.Count);
    }

    [Fact]
    public async Task A_token_bucket_leases_ahead_only_from_the_upper_half_of_the_bucket()
    {
        var redis = chat.App.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        RedisKey key = $"test:lease:{Guid.NewGuid():N}";
        async Task<long> AdmittedAsync(int wanted, int ahead) =>
            ((long[])(await redis.ScriptEvaluateAsync(RedisRateLimiter.TokenBucket, [key], [1, 10, wanted, ahead]))!)[0];

        // A full bucket of 10: one wanted, three ahead, as the five above the half allow.
        Assert.Equal(4, await AdmittedAsync(wanted: 1, ahead: 3));
        // 6 left: one wanted, and none ahead, which would dig into the lower half.
        Assert.Equal(1, await AdmittedAsync(wanted: 1, ahead: 3));
        // The lower half is still there for what is wanted, all of it.
        Assert.Equal(5, await AdmittedAsync(wanted: 5, ahead: 3));
        Assert.Equal(0, await AdmittedAsync(wanted: 1, ahead: 3));
    }

    [Fact]
    public async Task A_busy_user_on_one_instance_gets_the_whole_burst_though_permits_are_leased_ahead()
    {
        // A permit ahead at a time, and half the bucket to lease from: were leased permits lost or left unspent, the
        // sends would be refused a quarter of the burst early (the bucket refills far slower than they go).
        const int burst = 100, perSecond = 10;
        await using var app = chat.StartInstance(MessageLimit(perSecond, burst));
        var user = await app.CreateUserAsync();
        await using var connection = await app.ConnectAsync(user);

        var started = TimeProvider.System.GetTimestamp();
        var admitted = 0;
        while (true)
        {
            try
            {
                await connection.SendRawAsync($"{user.Id}:{admitted}");
                admitted++;
            }
            catch (HubException ex) when (ex.Message.Contains("rate limit", StringComparison.OrdinalIgnoreCase))
            {
                break;
            }
        }

        var refilled = (int)Math.Ceiling(TimeProvider.System.GetElapsedTime(started).TotalSeconds * perSecond);
        Assert.InRange(admitted, burst, burst + refilled);
    }

    [Fact]
    public async Task With_Redis_unreachable_both_limits_fall_back_to_local_limiters_never_to_none()
    {
        await using var proxy = await TcpProxy.ForSharedRedisAsync();
        var settings = Settings.Merge(AuthLimit(3), MessageLimit(perSecond: 1, burst: 2));
        settings["ConnectionStrings:Redis"] = $"127.0.0.1:{proxy.Port}";
        await using var app = chat.StartInstance(settings);
        var user = await chat.App.CreateUserAsync(); // this instance's own loopback budget is only 3 calls
        await using var connection = await app.ConnectAsync(user);
        // The server handles invocations only once the connection's setup (Redis subscriptions included) is done.
        await connection.SendRawAsync($"{user.Id}:connected");
        await connection.NextMessageAsync();

        proxy.Stop();

        var client = NewClientIp();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await AuthCallAsync(app, client)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await AuthCallAsync(app, client)).StatusCode);

        for (var i = 0; i < 2; i++)
        {
            var invalid = await Assert.ThrowsAsync<HubException>(() => connection.SendRawAsync("no separator"));
            Assert.DoesNotContain("rate limit", invalid.Message, StringComparison.OrdinalIgnoreCase);
        }

        var limited = await Assert.ThrowsAsync<HubException>(() => connection.SendRawAsync("no separator"));
        Assert.Contains("rate limit", limited.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(app.Logs.Lines, l => l.Contains("fall back", StringComparison.Ordinal));
    }
}
