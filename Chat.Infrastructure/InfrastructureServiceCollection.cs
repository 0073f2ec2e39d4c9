using Chat.Domain.Auth;
using Chat.Domain.Presence;
using Chat.Domain.Users;
using Chat.Infrastructure;
using Chat.Infrastructure.Auth;
using Chat.Infrastructure.Avatars;
using Chat.Infrastructure.InProcess;
using Chat.Infrastructure.Persistence;
using Chat.Infrastructure.Presence;
using Chat.Infrastructure.RateLimiting;
using Chat.Infrastructure.Redis;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

public static class InfrastructureServiceCollection
{
    /// <summary>Tag of the health checks that decide readiness.</summary>
    public const string ReadyTag = "ready";

    // A load balancer's probe wants a prompt answer; a server that takes longer than this is not ready.
    private static readonly TimeSpan ReadyCheckTimeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// EF Core, Redis and the stores behind the domain ports. <c>ConnectionStrings:Chat</c> selects MySQL over the
    /// embedded SQLite file; <c>ConnectionStrings:Redis</c> selects the Redis stores and backplane over in-process ones.
    /// </summary>
    public static IHostApplicationBuilder AddChatInfrastructure(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);

        services.AddOptions<JwtOptions>().BindConfiguration(JwtOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<JwtOptions>, JwtOptionsValidator>();
        services.AddSingleton<IPostConfigureOptions<JwtOptions>, DevelopmentSigningKey>();
        services.AddOptions<PresenceOptions>().BindConfiguration(PresenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AuthRateLimitOptions>().BindConfiguration(AuthRateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MessageRateLimitOptions>().BindConfiguration(MessageRateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new ChatRateLimiters(
            sp.GetRequiredService<IOptions<AuthRateLimitOptions>>(),
            sp.GetRequiredService<IOptions<MessageRateLimitOptions>>(),
            sp.GetService<IConnectionMultiplexer>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ChatRateLimiters>>()));

        services.Configure<PasswordHasherOptions>(o => o.IterationCount = Passwords.IterationCount);
        services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        services.AddSingleton<Passwords>();
        services.AddSingleton<TokenIssuer>();
        services.AddOptions<UnsplashOptions>().BindConfiguration(UnsplashOptions.Section)
            .Validate(o => o.HasValidBaseUrl, "Unsplash:BaseUrl must be an absolute http(s) URL.").ValidateOnStart();
        services.AddHttpClient<IAvatarProvider, AvatarProvider>((sp, http) =>
                http.BaseAddress = sp.GetRequiredService<IOptions<UnsplashOptions>>().Value.BaseAddress)
            .AddStandardResilienceHandler(o =>
            {
                // Signup waits for the picture: two seconds in all, one retry of a quick failure, then Gravatar.
                o.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(2);
                o.AttemptTimeout.Timeout = TimeSpan.FromSeconds(1);
                o.Retry.MaxRetryAttempts = 1;
                o.Retry.Delay = TimeSpan.FromMilliseconds(100);
            });

        AddDatabase(builder);
        // Registered first: hosted services start in order, and everything after it needs the schema.
        services.AddHostedService<DatabaseMigrator>();
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag], timeout: ReadyCheckTimeout);

        var redis = builder.Configuration.GetConnectionString("Redis");
        if (string.IsNullOrWhiteSpace(redis))
        {
            AddInProcessStores(services);
        }
        else
        {
            AddRedisStores(services, redis);
        }

        return builder;
    }

    private static void AddDatabase(IHostApplicationBuilder builder)
    {
        var mySql = builder.Configuration.GetConnectionString("Chat");
        if (string.IsNullOrWhiteSpace(mySql))
        {
            var directory = ChatStorage.DataDirectory(builder.Environment);
            Directory.CreateDirectory(directory);
            var sqlite = $"Data Source={Path.Combine(directory, "chat.db")}";
            builder.Services.AddDbContextPool<ChatDbContext, SqliteChatDbContext>(o => o.UseSqlite(sqlite));
            return;
        }

        // Detected once, on first use: MariaDB and MySQL need different SQL, and the server may still be starting.
        ServerVersion? version = null;
        builder.Services.AddDbContextPool<ChatDbContext, MySqlChatDbContext>(o => o.UseMySql(
            mySql,
            version ??= ServerVersion.AutoDetect(mySql),
            // Rides out a failover or a dropped pooled connection, but fails a request within seconds in an outage.
            mysql => mysql.EnableRetryOnFailure(maxRetryCount: 3, maxRetryDelay: TimeSpan.FromSeconds(1), errorNumbersToAdd: null)));
    }

    private static void AddInProcessStores(IServiceCollection services)
    {
        // Registered after AddSignalR's default, so Clients.User uses the per-user index (see the class for why).
        services.AddSignalR();
        services.AddSingleton(typeof(HubLifetimeManager<>), typeof(UserIndexedHubLifetimeManager<>));
        services.AddSingleton<IUserPresence, ConnectionCounts>();
        services.AddSingleton<IRefreshTokenStore, InProcessRefreshTokenStore>();
        services.AddSingleton<InProcessUserDirectory>();
        services.AddSingleton<IUserDirectory>(sp => sp.GetRequiredService<InProcessUserDirectory>());
        services.AddHostedService(sp => sp.GetRequiredService<InProcessUserDirectory>());
    }

    /// <summary>
    /// Start, and keep serving what does not need Redis, while Redis is away; while disconnected fail at once (callers
    /// fall back or answer "unavailable") instead of queueing; reconnect within seconds when it is back.
    /// </summary>
    private static void ConfigureResilience(ConfigurationOptions configuration)
    {
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ReconnectRetryPolicy = new ExponentialRetry(250, 5000);
    }

    private static void AddRedisStores(IServiceCollection services, string redis)
    {
        services.AddSingleton<IConnectionMultiplexer>(_ =>
        {
            var configuration = ConfigurationOptions.Parse(redis);
            ConfigureResilience(configuration);
            return ConnectionMultiplexer.Connect(configuration);
        });
        services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: [ReadyTag], timeout: ReadyCheckTimeout);

        services.AddSingleton<IRefreshTokenStore, RedisRefreshTokenStore>();
        services.AddSingleton<RedisUserPresence>();
        services.AddSingleton<IUserPresence>(sp => sp.GetRequiredService<RedisUserPresence>());
        services.AddHostedService(sp => sp.GetRequiredService<RedisUserPresence>());
        services.AddSingleton<RedisUserDirectory>();
        services.AddSingleton<IUserDirectory>(sp => sp.GetRequiredService<RedisUserDirectory>());
        services.AddHostedService(sp => sp.GetRequiredService<RedisUserDirectory>());

        // The backplane: Clients.User reaches a user's connections on every instance. Like the stores, it fails
        // fast while Redis is away (the hub then says delivery is unavailable) and reconnects quickly.
        services.AddSingleton<DeliveryUnavailableFilter>();
        services.AddSignalR(o => o.AddFilter<DeliveryUnavailableFilter>()).AddStackExchangeRedis(redis, o =>
        {
            o.Configuration.ChannelPrefix = RedisChannel.Literal("chat");
            ConfigureResilience(o.Configuration);
        });
    }
}
