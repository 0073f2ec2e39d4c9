using System.Net.WebSockets;
using Chat.Tests.Fixtures;

namespace Chat.Tests.Cluster;

/// <summary>
/// Two instances behind nginx, as deployed: run by ./test.sh after the other tests, or by hand against
/// <c>scripts/cluster.sh start</c> (or <c>docker compose up</c> with <c>CHAT_AUTH_PERMIT_LIMIT=1000</c>, as it signs
/// up to a dozen users from one address) with <c>CHAT_CLUSTER_URL</c> set to nginx's URL.
/// Clients connect the way the JS client does in a browser: negotiate with the token in an
/// <c>Authorization</c> header, then the WebSocket with it in <c>?access_token=</c>. nginx names the instance
/// that answered in <c>X-Chat-Upstream</c>.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ClusterSmokeTests : IAsyncLifetime
{
    private const string UpstreamHeader = "X-Chat-Upstream";
    private const int MaxUsers = 12;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly List<ClusterClient> clients = [];
    private HttpClient http = null!;
    private ChatClient chat = null!;

    public Task InitializeAsync()
    {
        http = new HttpClient { BaseAddress = ClusterUrl.Get(), Timeout = Deadline };
        chat = new ChatClient(http);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Users_held_by_different_instances_exchange_a_message_and_both_are_listed_online()
    {
        // Keep adding users until the token hash has put two of them on different instances.
        while (clients.Select(c => c.Instance).Distinct().Count() < 2)
        {
            if (clients.Count == MaxUsers)
            {
                Assert.Fail($"All {MaxUsers} users were served by {clients[0].Instance}: nginx does not spread the hub over two instances.");
            }

            clients.Add(await ConnectNewUserAsync());
        }

        // Stickiness: each client's WebSocket reached the instance that answered its negotiate.
        foreach (var client in clients)
        {
            Assert.Equal(client.Instance, client.WebSocketInstance);
        }

        var alice = clients[0];
        var bob = clients.First(c => c.Instance != alice.Instance);
        Assert.NotEqual(alice.Instance, bob.Instance);

        var receipt = await alice.Connection.SendRawAsync($"{bob.User.Id}:hello from {alice.Instance} to {bob.Instance}");
        var message = await bob.Connection.NextMessageAsync(Deadline);

        Assert.Equal(receipt.Id, message.Id);
        Assert.Equal(alice.User.Id, message.SenderId);
        Assert.Equal(bob.User.Id, message.ReceiverId);
        Assert.Equal($"hello from {alice.Instance} to {bob.Instance}", message.Text);
        Assert.Equal(receipt.SentAt, message.SentAt);

        await Eventually.TrueAsync(
            async () =>
            {
                var online = await chat.OnlineIdsAsync(bob.User);
                return online.Contains(alice.User.Id) && online.Contains(bob.User.Id);
            },
            Deadline,
            $"GET /api/users/online did not list both {alice.User.Id} ({alice.Instance}) and {bob.User.Id} ({bob.Instance}) within {Deadline}.");
    }

    private async Task<ClusterClient> ConnectNewUserAsync()
    {
        var user = await chat.CreateUserAsync();
        var client = new ClusterClient(user);
        using (var timeout = new CancellationTokenSource(Deadline))
        {
            // Negotiate with the token as a header; the WebSocket factory adds it to the query string.
            client.Connection = await chat.ConnectAsync(
                user.AccessToken,
                useHeader: true,
                o =>
                {
                    o.HttpMessageHandlerFactory = inner => new NegotiateRecorder(inner, client);
                    o.WebSocketFactory = (context, cancellationToken) => client.ConnectWebSocketAsync(context.Uri, cancellationToken);
                },
                timeout.Token);
        }

        Assert.False(string.IsNullOrEmpty(client.Instance), $"The negotiate response through nginx had no {UpstreamHeader} header.");
        return client;
    }

    /// <summary>The instance nginx says served a response: the last address when it retried on another one.</summary>
    private static string? Served(IEnumerable<string>? values) =>
        values?.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).LastOrDefault();

    public async Task DisposeAsync()
    {
        foreach (var client in clients)
        {
            if (client.Connection is not null)
            {
                await client.Connection.DisposeAsync();
            }
        }

        http?.Dispose();
    }

    private sealed class ClusterClient(TestUser user)
    {
        public TestUser User { get; } = user;

        public ChatConnection Connection { get; set; } = null!;

        /// <summary>The instance that answered the negotiate.</summary>
        public string? Instance { get; set; }

        /// <summary>The instance that accepted the WebSocket.</summary>
        public string? WebSocketInstance { get; private set; }

        /// <summary>Opens the WebSocket as a browser must: the token in the query string, no header.</summary>
        public async ValueTask<WebSocket> ConnectWebSocketAsync(Uri uri, CancellationToken cancellationToken)
        {
            var withToken = new UriBuilder(uri);
            withToken.Query = $"{withToken.Query.TrimStart('?')}&access_token={Uri.EscapeDataString(User.AccessToken)}";
            var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            try
            {
                await socket.ConnectAsync(withToken.Uri, cancellationToken);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            WebSocketInstance = Served(socket.HttpResponseHeaders?
                .Where(h => string.Equals(h.Key, UpstreamHeader, StringComparison.OrdinalIgnoreCase))
                .SelectMany(h => h.Value));
            return socket;
        }
    }

    /// <summary>Reads which instance answered the negotiate; the SignalR client sends its HTTP requests through it.</summary>
    private sealed class NegotiateRecorder(HttpMessageHandler inner, ClusterClient client) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.RequestUri?.AbsolutePath.EndsWith("/negotiate", StringComparison.Ordinal) == true
                && response.Headers.TryGetValues(UpstreamHeader, out var values))
            {
                client.Instance = Served(values);
            }

            return response;
        }
    }
}
