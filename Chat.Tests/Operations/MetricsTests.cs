using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Chat.Tests.Fixtures;
using Microsoft.AspNetCore.SignalR;

namespace Chat.Tests.Operations;

/// <summary>
/// <c>GET /metrics</c>: Chat's instruments and the framework's in the Prometheus text format, to the operators'
/// networks only. The test client is on loopback, a trusted proxy, so X-Forwarded-For says where a request comes from.
/// </summary>
[Collection(MySqlRedisChat.Name)]
public sealed partial class MetricsTests(MySqlRedisChat chat)
{
    private ChatApp App => chat.App;

    private static Task<HttpResponseMessage> ScrapeAsync(ChatApp app, string? from = null) => ScrapeAsync(app.Http, from);

    private static async Task<HttpResponseMessage> ScrapeAsync(HttpClient http, string? from = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (from is not null)
        {
            request.Headers.Add("X-Forwarded-For", from);
        }

        return await http.SendAsync(request);
    }

    /// <summary>The sum of the samples of <paramref name="metric"/> whose labels hold <paramref name="label"/> (all when none); 0 when there are none yet.</summary>
    private static async Task<double> SampleAsync(HttpClient http, string metric, string label = "")
    {
        using var response = await ScrapeAsync(http);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        return Sample().Matches(text)
            .Where(m => m.Groups["name"].Value == metric && m.Groups["labels"].Value.Contains(label, StringComparison.Ordinal))
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Metrics_list_the_stored_messages_and_the_counter_grows_by_one_for_every_message_stored()
    {
        // A process of its own: in this test process every host's meters share their names, and so their counters.
        await using var instance = await ChatProcess.StartAsync(chat.Stores);
        var alice = await instance.Client.CreateUserAsync();
        var bob = await instance.Client.CreateUserAsync();
        await using var connection = await instance.Client.ConnectAsync(alice);
        Assert.Equal(0, await SampleAsync(instance.Client.Http, "chat_messages_stored_total"));

        for (var i = 0; i < 5; i++)
        {
            await connection.SendAsync(bob.Id, $"counted {i}");
        }

        await Assert.ThrowsAsync<HubException>(() => connection.SendAsync(Guid.NewGuid().ToString("N"), "to nobody"));

        // The exporter answers a scrape from a cache of a few hundred milliseconds.
        await Eventually.TrueAsync(async () => await SampleAsync(instance.Client.Http, "chat_messages_stored_total") == 5);
        var http = instance.Client.Http;
        Assert.Equal(5, await SampleAsync(http, "chat_send_duration_seconds_count"));
        Assert.Equal(5, await SampleAsync(http, "chat_messages_delivered_total"));
        Assert.Equal(1, await SampleAsync(http, "chat_messages_rejected_total", "chat_reject_reason=\"unknown_receiver\""));
        Assert.True(await SampleAsync(http, "chat_store_batch_size_count") >= 1);
        Assert.True(await SampleAsync(http, "kestrel_active_connections") >= 1);
    }

    [Fact]
    public async Task Presence_events_refresh_token_reuse_and_hub_rate_limit_rejections_are_counted()
    {
        await using var instance = await ChatProcess.StartAsync(Settings.Merge(chat.Stores, new Dictionary<string, string?>
        {
            ["Presence:GraceSeconds"] = "1",
            ["RateLimiting:Messages:PermitsPerSecond"] = "1",
            ["RateLimiting:Messages:Burst"] = "1",
        }));
        var http = instance.Client.Http;
        var alice = await instance.Client.CreateUserAsync();
        var bob = await instance.Client.CreateUserAsync();
        await using var bobConnection = await instance.Client.ConnectAsync(bob);

        // The first message makes them contacts and announces each to the other; Alice's leaving is announced to Bob.
        var aliceConnection = await instance.Client.ConnectAsync(alice);
        await aliceConnection.SendAsync(bob.Id, "hello");
        var refused = 0;
        for (var i = 0; i < 3; i++)
        {
            try
            {
                await aliceConnection.SendAsync(bob.Id, $"more {i}");
            }
            catch (HubException)
            {
                refused++;
            }
        }

        await aliceConnection.DisposeAsync();
        Assert.True(refused >= 1, "a burst of one let every send through");

        var refreshed = await instance.Client.RefreshAsync(alice.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await instance.Client.RefreshAsync(alice.RefreshToken)).StatusCode);

        await Eventually.TrueAsync(async () => await SampleAsync(http, "chat_presence_events_total", "chat_presence_event=\"offline\"") == 1);
        Assert.Equal(2, await SampleAsync(http, "chat_presence_events_total", "chat_presence_event=\"online\""));
        Assert.Equal(refused, await SampleAsync(http, "chat_rate_limit_rejections_total", "chat_rate_limit_limiter=\"messages\""));
        Assert.Equal(1, await SampleAsync(http, "chat_auth_refresh_token_reuse_total"));
        Assert.Equal(1, await SampleAsync(http, "chat_redis_connected"));
    }

    [Fact]
    public async Task With_OTLP_set_the_console_log_lines_of_a_request_carry_its_trace_id()
    {
        // No collector listens there: the exporter retries in the background and the instance serves on.
        await using var instance = await ChatProcess.StartAsync(Settings.Merge(chat.Stores, new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9",
            // As appsettings.json says in Production (the process runs outside the app's directory, without it).
            ["Logging:Console:FormatterName"] = "json",
            ["Logging:CaptureScopes"] = "false",
        }));
        var alice = await instance.Client.CreateUserAsync();
        Assert.Equal(HttpStatusCode.OK, (await instance.Client.RefreshAsync(alice.RefreshToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await instance.Client.RefreshAsync(alice.RefreshToken)).StatusCode);

        string? line = null;
        await Eventually.TrueAsync(() => Task.FromResult(
            (line = instance.Output.FirstOrDefault(l => l.Contains("consumed refresh token", StringComparison.Ordinal))) is not null));
        Assert.Matches("\"TraceId\":\"[0-9a-f]{32}\"", line);
        Assert.DoesNotContain(alice.RefreshToken, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.20.30.40")]
    [InlineData("192.168.1.2")]
    [InlineData("127.0.0.1")]
    public async Task Metrics_are_served_to_the_private_networks(string from)
    {
        using var response = await ScrapeAsync(App, from);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("# TYPE", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("203.0.113.7")]
    [InlineData("2001:db8::7")]
    public async Task Metrics_are_refused_to_a_public_address_with_a_problem(string from)
    {
        using var response = await ScrapeAsync(App, from);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("chat_", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Metrics_can_be_switched_off_and_the_allowed_networks_narrowed()
    {
        var contentRoot = Directory.CreateTempSubdirectory("chat-metrics-").FullName;
        try
        {
            await using (var off = ChatApp.Start(new Dictionary<string, string?> { ["Metrics:Prometheus"] = "false" }, contentRoot))
            {
                using var response = await ScrapeAsync(off);
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            }

            await using var narrow = ChatApp.Start(new Dictionary<string, string?> { ["Metrics:AllowedNetworks:0"] = "10.9.0.0/16" }, contentRoot);
            using (var inside = await ScrapeAsync(narrow, "10.9.8.7"))
            {
                Assert.Equal(HttpStatusCode.OK, inside.StatusCode);
            }

            using var outside = await ScrapeAsync(narrow, "10.8.0.1");
            Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
        }
        finally
        {
            Directory.Delete(contentRoot, recursive: true);
        }
    }

    [Fact]
    public void A_network_that_is_not_CIDR_stops_the_instance_at_start()
    {
        var error = Assert.ThrowsAny<Exception>(() => ChatApp.Start(new Dictionary<string, string?> { ["Metrics:AllowedNetworks:0"] = "10.0.0.0/33" }).Dispose());

        Assert.Contains("CIDR", error.ToString());
    }

    [GeneratedRegex(@"^(?<name>[a-z_:][a-z0-9_:]*)(?<labels>\{[^}]*\})? (?<value>[-+0-9.eE]+|NaN)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
