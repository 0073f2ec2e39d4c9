using MySqlConnector;

namespace Chat.Tests.Fixtures;

/// <summary>
/// A database of its own on the test server, reached through a <see cref="TcpProxy"/> the test can stop: a database
/// outage for one instance while every other test keeps its database.
/// </summary>
public sealed class ProxiedDatabase : IAsyncDisposable
{
    private readonly string database;

    private ProxiedDatabase(string database, TcpProxy proxy, Dictionary<string, string?> settings)
    {
        this.database = database;
        Proxy = proxy;
        Settings = settings;
    }

    public TcpProxy Proxy { get; }

    /// <summary>The instance's connection strings: the database through the proxy (2 s connect timeout), the shared Redis.</summary>
    public Dictionary<string, string?> Settings { get; }

    public static async Task<ProxiedDatabase> CreateAsync()
    {
        var servers = await TestServers.GetAsync();
        var database = $"chat_{Guid.NewGuid():N}";
        var direct = new MySqlConnectionStringBuilder(await TestServers.CreateDatabaseAsync(database));
        var proxy = new TcpProxy(direct.Server, (int)direct.Port);
        var viaProxy = new MySqlConnectionStringBuilder(direct.ConnectionString) { Server = "127.0.0.1", Port = (uint)proxy.Port, ConnectionTimeout = 2 };
        return new ProxiedDatabase(database, proxy, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Chat"] = viaProxy.ConnectionString,
            ["ConnectionStrings:Redis"] = servers.Redis,
        });
    }

    public async ValueTask DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await TestServers.DropDatabaseAsync(database);
    }
}
