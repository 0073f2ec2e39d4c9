using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Fixtures;

/// <summary>The app as deployed at scale: MySQL/MariaDB through EF Core and Redis for every store.</summary>
public sealed class MySqlRedisChat : IAsyncLifetime
{
    public const string Name = "MySQL and Redis";

    private readonly string database = $"chat_{Guid.NewGuid():N}";

    private string connectionString = "";
    private string redis = "";

    public ChatApp App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        redis = (await TestServers.GetAsync()).Redis;
        connectionString = await TestServers.CreateDatabaseAsync(database);
        App = StartInstance();
    }

    /// <summary>The connection strings of this fixture's database and Redis, by configuration key.</summary>
    public Dictionary<string, string?> Stores => new()
    {
        ["ConnectionStrings:Chat"] = connectionString,
        ["ConnectionStrings:Redis"] = redis,
    };

    /// <summary>Another instance on the same database and Redis; the caller disposes it.</summary>
    public ChatApp StartInstance(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null) =>
        ChatApp.Start(Settings.Merge(Stores, settings), services: services);

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await TestServers.DropDatabaseAsync(database);
    }
}

/// <summary>The app with no connection strings: SQLite in its data folder and in-process stores.</summary>
public sealed class EmbeddedChat : IAsyncLifetime
{
    public const string Name = "Embedded";

    private readonly string contentRoot = Directory.CreateTempSubdirectory("chat-embedded-").FullName;

    public ChatApp App { get; private set; } = null!;

    public Task InitializeAsync()
    {
        App = ChatApp.Start(new Dictionary<string, string?>(), contentRoot);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        Directory.Delete(contentRoot, recursive: true);
    }
}

[CollectionDefinition(MySqlRedisChat.Name)]
public sealed class MySqlRedisCollection : ICollectionFixture<MySqlRedisChat>;

[CollectionDefinition(EmbeddedChat.Name)]
public sealed class EmbeddedCollection : ICollectionFixture<EmbeddedChat>;
