using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Threading.Channels;
using Chat.Domain.Messaging;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Chat.Tests.Fixtures;

/// <summary>One Chat instance on real Kestrel on a loopback port, configured as an operator would, by settings.</summary>
public sealed class ChatApp : WebApplicationFactory<Program>
{
    public const string SigningKey = "integration-tests-signing-key-0123456789abcdef";

    private static int userCount;
    private readonly IReadOnlyDictionary<string, string?> settings;
    private readonly string? contentRoot;
    private readonly Action<IServiceCollection>? services;

    private ChatApp(IReadOnlyDictionary<string, string?> settings, string? contentRoot, Action<IServiceCollection>? services)
    {
        this.settings = settings;
        this.contentRoot = contentRoot;
        this.services = services;
        UseKestrel(0);
    }

    public LogRecorder Logs { get; } = new();

    public HttpClient Http { get; private set; } = null!;

    public Uri BaseAddress => Http.BaseAddress!;

    /// <summary>
    /// Starts an instance. Settings use configuration keys ("Jwt:SigningKey") and override these defaults: the test
    /// signing key, and limits high enough that tests creating many users from one address are not throttled (the
    /// rate-limit tests set their own).
    /// </summary>
    public static ChatApp Start(IDictionary<string, string?> settings, string? contentRoot = null, Action<IServiceCollection>? services = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Jwt:SigningKey"] = SigningKey,
            ["RateLimiting:Auth:PermitLimit"] = "1000000",
            ["RateLimiting:Messages:PermitsPerSecond"] = "100000",
            ["RateLimiting:Messages:Burst"] = "100000",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var app = new ChatApp(all, contentRoot, services);
        app.StartServer();
        app.Http = app.CreateClient();
        return app;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        if (contentRoot is not null)
        {
            builder.UseContentRoot(contentRoot);
        }

        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        if (services is not null)
        {
            builder.ConfigureServices(services);
        }

        builder.ConfigureLogging(logging =>
        {
            logging.ClearProviders();
            logging.SetMinimumLevel(LogLevel.Debug);
            logging.AddProvider(Logs);
        });
    }

    public async Task<HttpResponseMessage> SignupAsync(string? username, string? email, string? password) =>
        await Http.PostAsJsonAsync("/api/auth/signup", new { username, email, password });

    public async Task<HttpResponseMessage> LoginAsync(string? username, string? password) =>
        await Http.PostAsJsonAsync("/api/auth/login", new { username, password });

    /// <summary>A new user, signed up and logged in, whose name no other test uses.</summary>
    public async Task<TestUser> CreateUserAsync()
    {
        var username = $"u{Interlocked.Increment(ref userCount)}_{Guid.NewGuid():N}"[..24];
        var password = $"pw-{Guid.NewGuid():N}";
        var signup = await SignupAsync(username, $"{username}@example.com", password);
        signup.EnsureSuccessStatusCode();
        var login = await LoginAsync(username, password);
        login.EnsureSuccessStatusCode();
        var tokens = (await login.Content.ReadFromJsonAsync<TokenBody>())!;
        return new TestUser(tokens.User.Id, username, $"{username}@example.com", password, tokens.AccessToken, tokens.RefreshToken);
    }

    public HttpRequestMessage Authorized(HttpMethod method, string path, string accessToken)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return request;
    }

    /// <summary>
    /// A started hub connection over WebSockets, negotiated first as the JS client does. By default the token goes in the <c>access_token</c> query string,
    /// as browsers must send it; <paramref name="useHeader"/> sends it as a bearer header instead.
    /// </summary>
    public async Task<ChatConnection> ConnectAsync(string accessToken, bool useHeader = false)
    {
        var url = new Uri(BaseAddress, useHeader ? "/hubs/chat" : $"/hubs/chat?access_token={Uri.EscapeDataString(accessToken)}");
        var hub = new HubConnectionBuilder()
            .WithUrl(url, o =>
            {
                o.Transports = HttpTransportType.WebSockets;
                if (useHeader)
                {
                    o.AccessTokenProvider = () => Task.FromResult<string?>(accessToken);
                }
            })
            .Build();
        var connection = new ChatConnection(hub);
        await hub.StartAsync();
        return connection;
    }

    public Task<ChatConnection> ConnectAsync(TestUser user) => ConnectAsync(user.AccessToken);

    public async Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        await Http.PostAsJsonAsync("/api/auth/refresh", new { refreshToken });

    public async Task<HttpResponseMessage> LogoutAsync(string refreshToken) =>
        await Http.PostAsJsonAsync("/api/auth/logout", new { refreshToken });

    private sealed record TokenBody(string AccessToken, string RefreshToken, UserBody User);

    private sealed record UserBody(string Id);
}

public sealed record TestUser(string Id, string Username, string Email, string Password, string AccessToken, string RefreshToken);

/// <summary>A hub connection that keeps what the server sends it.</summary>
public sealed class ChatConnection : IAsyncDisposable
{
    private readonly Channel<ChatMessage> received = Channel.CreateUnbounded<ChatMessage>();
    private readonly TaskCompletionSource<Exception?> closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ChatConnection(HubConnection hub)
    {
        Hub = hub;
        hub.On<ChatMessage>("ReceiveMessage", m => received.Writer.TryWrite(m));
        hub.Closed += error =>
        {
            closed.TrySetResult(error);
            return Task.CompletedTask;
        };
    }

    public HubConnection Hub { get; }

    /// <summary>Completes when the connection closes, with the error the server gave, if any.</summary>
    public Task<Exception?> Closed => closed.Task;

    public Task<SendReceipt> SendRawAsync(object? raw) => Hub.InvokeAsync<SendReceipt>("SendRaw", raw);

    public async Task<ChatMessage> NextMessageAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        return await received.Reader.ReadAsync(cts.Token);
    }

    public ValueTask DisposeAsync() => Hub.DisposeAsync();
}
