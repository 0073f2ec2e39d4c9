using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Chat.Tests.Fixtures;

namespace Chat.Tests.Cluster;

/// <summary>
/// nginx's edge (deploy/nginx.conf.template and deploy/nginx.main.conf) as scripts/cluster.sh runs it: slow and idle
/// sockets neither keep a normal client out nor stay open, and every client address but loopback is held to the
/// per-address limits. Against <c>CHAT_CLUSTER_URL</c>, as <see cref="ClusterSmokeTests"/>; the floods are bounded
/// in sockets and in time.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class EdgeTests
{
    // More than nginx's stock 2 × 1024 worker connections would hold; far fewer than this process may open.
    private const int IdleSockets = 2500;
    private const int SlowSockets = 500;

    // nginx's client_header_timeout is 10 s; the margin is for a loaded machine.
    private static readonly TimeSpan HeaderTimeoutAndMargin = TimeSpan.FromSeconds(25);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    // Not loopback's 127.0.0.1, which the edge exempts; still this machine's loopback interface.
    private static readonly IPAddress OtherClient = IPAddress.Parse("127.0.0.2");

    private readonly Uri url = ClusterUrl.Get();

    [Fact]
    public async Task Thousands_of_idle_and_slow_sockets_neither_keep_a_normal_client_out_nor_outlive_the_header_timeout()
    {
        var sockets = new List<Socket>();
        using var stop = new CancellationTokenSource();
        var dripping = Task.CompletedTask;
        try
        {
            for (var i = 0; i < IdleSockets + SlowSockets; i += 100)
            {
                sockets.AddRange(await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => OpenAsync(IPAddress.Loopback))));
            }

            // Slowloris: a request line, then one more header line every second, never the end of the headers.
            var slow = sockets.Take(SlowSockets).ToList();
            await Task.WhenAll(slow.Select(s => s.SendAsync(Encoding.ASCII.GetBytes($"GET /health/ready HTTP/1.1\r\nHost: {url.Authority}\r\n"))));
            dripping = DripAsync(slow, stop.Token);

            using var http = new HttpClient { BaseAddress = url, Timeout = Deadline };
            var ready = await http.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var user = await new ChatClient(http).CreateUserAsync();
            Assert.False(string.IsNullOrEmpty(user.AccessToken));

            await Eventually.TrueAsync(
                () => Task.FromResult(sockets.All(ClosedOrAnswered)),
                HeaderTimeoutAndMargin,
                $"{sockets.Count(s => !ClosedOrAnswered(s))} of {sockets.Count} idle or slow sockets were still open after {HeaderTimeoutAndMargin}.");
        }
        finally
        {
            await stop.CancelAsync();
            await dripping;
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_client_address_other_than_loopback_is_held_to_the_edge_limits_and_told_so_in_a_problem()
    {
        using var other = ClientFrom(OtherClient);
        using var local = ClientFrom(IPAddress.Loopback);
        // Unknown usernames each time, so the app's own per-account budget never answers instead of the edge.
        Task<HttpResponseMessage[]> LoginsAsync(HttpClient http, int count) => Task.WhenAll(Enumerable.Range(0, count).Select(_ =>
            http.PostAsJsonAsync("/api/auth/login", new { username = $"edge{Guid.NewGuid():N}"[..20], password = "not-the-password" })));

        var logins = await LoginsAsync(other, 40);
        var refused = logins.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        Assert.Contains(logins, r => r.StatusCode == HttpStatusCode.Unauthorized);
        var problem = refused[0];
        Assert.Equal("application/problem+json", problem.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(1), problem.Headers.RetryAfter?.Delta);
        Assert.False(problem.Headers.Contains("X-Chat-Upstream"), "the 429 came from an instance, not from the edge");
        Assert.Equal(429, (await problem.Content.ReadFromJsonAsync<ProblemBody>())?.Status);

        var negotiations = await Task.WhenAll(Enumerable.Range(0, 60).Select(_ => other.PostAsync("/hubs/chat/negotiate?negotiateVersion=1", null)));
        Assert.Contains(negotiations, r => r.StatusCode == HttpStatusCode.TooManyRequests);

        Assert.DoesNotContain(await LoginsAsync(local, 40), r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.Equal("nginx", (await local.GetAsync("/health/ready")).Headers.Server.ToString());
    }

    private sealed record ProblemBody(int Status, string? Title);

    private async Task<Socket> OpenAsync(IPAddress from)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(from, 0));
        await socket.ConnectAsync(url.Host, url.Port);
        return socket;
    }

    private HttpClient ClientFrom(IPAddress from) =>
        new(new SocketsHttpHandler
        {
            ConnectCallback = async (_, _) => new NetworkStream(await OpenAsync(from), ownsSocket: true),
        })
        {
            BaseAddress = url,
            Timeout = Deadline,
        };

    private static async Task DripAsync(IReadOnlyList<Socket> sockets, CancellationToken cancellationToken)
    {
        var line = Encoding.ASCII.GetBytes("X-Slow: 1\r\n");
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                foreach (var socket in sockets.Where(s => !ClosedOrAnswered(s)))
                {
                    try
                    {
                        await socket.SendAsync(line, cancellationToken);
                    }
                    catch (SocketException)
                    {
                        // nginx closed it between the check and the send: what the test waits for.
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>nginx closed the socket (or answered on it): reading would not block.</summary>
    private static bool ClosedOrAnswered(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead) || socket.Poll(0, SelectMode.SelectError);
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }
}
