using System.Text.Json;
using Chat.Api.Platform;
using Chat.Api.Presence;
using Chat.Domain.Presence;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Chat.Tests.Fixtures;

/// <summary>One Chat instance on real Kestrel on a loopback port, configured as an operator would, by settings.</summary>
public sealed class ChatApp : WebApplicationFactory<Program>
{
    public const string SigningKey = "integration-tests-signing-key-0123456789abcdef";

    /// <summary>
    /// The test signing key, and limits high enough that tests creating many users from one address, or syncing in a
    /// loop, are not throttled (the rate-limit tests set their own).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string?> Defaults = new Dictionary<string, string?>
    {
        ["Jwt:SigningKey"] = SigningKey,
        ["RateLimiting:Auth:PermitLimit"] = "1000000",
        ["RateLimiting:Messages:PermitsPerSecond"] = "100000",
        ["RateLimiting:Messages:Burst"] = "100000",
        ["RateLimiting:Reads:PermitLimit"] = "1000000",
    };

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

    /// <summary>This instance's client: every call below goes through it.</summary>
    public ChatClient Client { get; private set; } = null!;

    public HttpClient Http => Client.Http;

    public Uri BaseAddress => Client.BaseAddress;

    /// <summary>Starts an instance. Settings use configuration keys ("Jwt:SigningKey") and override the test defaults.</summary>
    public static ChatApp Start(IDictionary<string, string?> settings, string? contentRoot = null, Action<IServiceCollection>? services = null)
    {
        var app = new ChatApp(Settings.Merge(Defaults, settings), contentRoot, services);
        app.StartServer();
        app.Client = new ChatClient(app.CreateClient());
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

    public Task<HttpResponseMessage> SignupAsync(string? username, string? email, string? password) => Client.SignupAsync(username, email, password);

    public Task<HttpResponseMessage> LoginAsync(string? username, string? password) => Client.LoginAsync(username, password);

    public Task<HttpResponseMessage> RefreshAsync(string refreshToken) => Client.RefreshAsync(refreshToken);

    public Task<HttpResponseMessage> LogoutAsync(string refreshToken) => Client.LogoutAsync(refreshToken);

    /// <inheritdoc cref="ChatClient.CreateUserAsync"/>
    public Task<TestUser> CreateUserAsync() => Client.CreateUserAsync();

    public HttpRequestMessage Authorized(HttpMethod method, string path, string accessToken) => Client.Authorized(method, path, accessToken);

    /// <inheritdoc cref="ChatClient.GetAsync"/>
    public Task<HttpResponseMessage> GetAsync(string path, string accessToken) => Client.GetAsync(path, accessToken);

    /// <inheritdoc cref="ChatClient.OnlineAsync"/>
    public Task<List<JsonElement>> OnlineAsync(TestUser asUser) => Client.OnlineAsync(asUser);

    /// <inheritdoc cref="ChatClient.OnlineIdsAsync"/>
    public Task<List<string?>> OnlineIdsAsync(TestUser asUser) => Client.OnlineIdsAsync(asUser);

    /// <inheritdoc cref="ChatClient.ConnectAsync(string, bool, Action{Microsoft.AspNetCore.Http.Connections.Client.HttpConnectionOptions}?, CancellationToken)"/>
    public Task<ChatConnection> ConnectAsync(string accessToken, bool useHeader = false) => Client.ConnectAsync(accessToken, useHeader);

    public Task<ChatConnection> ConnectAsync(TestUser user) => Client.ConnectAsync(user);

    /// <summary>
    /// The user's live hub connections as the server's presence counts them, on every instance that shares this one's
    /// Redis (or in this process, without Redis): what "online" is made of. A count the test expects tells it that the
    /// server has handled a connect or a disconnect, which the client's own calls return before.
    /// </summary>
    public async Task<int> ConnectionsOfAsync(string userId)
    {
        if (Services.GetRequiredService<IUserPresence>() is InProcessUserPresence inProcess)
        {
            return inProcess.Counts.Of(userId);
        }

        var redis = Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        var instances = await redis.SortedSetRangeByRankAsync(RedisKeys.PresenceInstances);
        var perInstance = await Task.WhenAll(instances.Select(id => redis.HashGetAsync(RedisKeys.PresenceInstance(id!), userId)));
        return perInstance.Sum(n => n.HasValue ? (int)n : 0);
    }
}
