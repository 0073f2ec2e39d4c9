using Chat.Api.Platform.OpenApi;
using Chat.Api.Platform.Persistence;
using Chat.Api.Platform.RateLimiting;
using Chat.Api.Platform.Security;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using System.Net;

namespace Chat.Api.Platform;

/// <summary>
/// What every feature stands on: the database, the one Redis connection (when configured), health checks, errors as
/// ProblemDetails, OpenAPI, forwarded headers and the rate-limit plumbing. <c>ConnectionStrings:Chat</c> selects
/// MySQL/MariaDB over the embedded SQLite file; <c>ConnectionStrings:Redis</c> selects the Redis stores and backplane
/// over in-process ones (each feature asks <see cref="UsesRedis"/>).
/// </summary>
public static class PlatformModule
{
    /// <summary>Tag of the health checks that decide readiness.</summary>
    public const string ReadyTag = "ready";

    // A load balancer's probe wants a prompt answer; a server that takes longer than this is not ready.
    private static readonly TimeSpan ReadyCheckTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Where secrets are read as files unless <c>Secrets:Directory</c> says otherwise: compose's and Kubernetes' mount.</summary>
    public const string DefaultSecretsDirectory = "/run/secrets";

    public static IHostApplicationBuilder AddPlatform(this IHostApplicationBuilder builder)
    {
        AddSecretFiles(builder.Configuration);
        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);

        // Request-start lines carry the full URL, and WebSocket clients put their access token in the query string.
        // Off entirely (it logs nothing above Information but startup failures, which also end the process with
        // their error): while this category is enabled, hosting gives every request an Activity, which a hub
        // connection keeps for as long as it lives.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);

        services.AddProblemDetails();
        // Development rethrows malformed request bodies: the client's error there too, not a 500. A Redis or database
        // outage is the service being briefly unavailable, not a bug.
        services.AddExceptionHandler(o => o.StatusCodeSelector = ex => ex switch
        {
            BadHttpRequestException bad => bad.StatusCode,
            RedisException => StatusCodes.Status503ServiceUnavailable,
            _ when ChatDbContext.IsUnavailable(ex) => StatusCodes.Status503ServiceUnavailable,
            _ => StatusCodes.Status500InternalServerError,
        });
        services.AddOptions<SwaggerOptions>().BindConfiguration(SwaggerOptions.Section);
        services.AddOpenApi(o => o.AddBearerSecurity());
        services.Configure<ForwardedHeadersOptions>(o => ConfigureForwardedHeaders(o, builder.Configuration));
        services.AddOptions<ReadRateLimitOptions>().BindConfiguration(ReadRateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(o => o.RejectWithProblem().AddReadPolicy());
        services.AddSingleton<RateLimitMetrics>();

        AddDatabase(builder);
        // Registered first: hosted services start in order, and everything after it needs the schema.
        services.AddHostedService<DatabaseMigrator>();
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag], timeout: ReadyCheckTimeout);

        if (builder.UsesRedis())
        {
            var configuration = ConfigurationOptions.Parse(builder.Configuration.GetConnectionString("Redis")!);
            // Start, and keep serving what does not need Redis, while Redis is away; while disconnected fail at once
            // (callers fall back or answer "unavailable") instead of queueing; reconnect within seconds when it is back.
            configuration.AbortOnConnectFail = false;
            configuration.BacklogPolicy = BacklogPolicy.FailFast;
            configuration.ReconnectRetryPolicy = new ExponentialRetry(250, 5000);
            // The one connection of this instance: the stores, the rate limits and the SignalR backplane share it.
            services.AddSingleton<RedisMetrics>();
            services.AddSingleton<IConnectionMultiplexer>(sp =>
            {
                var connection = ConnectionMultiplexer.Connect(configuration);
                sp.GetRequiredService<RedisMetrics>().Watch(connection);
                return connection;
            });
            services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: [ReadyTag], timeout: ReadyCheckTimeout);
            services.AddSingleton<IRateLimitPartitions, RedisRateLimitPartitions>();
            services.AddSingleton<IThrottle, RedisThrottle>();
        }
        else
        {
            services.AddSingleton<IRateLimitPartitions, LocalRateLimitPartitions>();
            services.AddSingleton<IThrottle, InProcessThrottle>();
        }

        return builder;
    }

    /// <summary>Whether this instance runs with Redis (scale-out mode) rather than in-process stores.</summary>
    public static bool UsesRedis(this IHostApplicationBuilder builder) =>
        !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Redis"));

    private static void AddDatabase(IHostApplicationBuilder builder)
    {
        var mySql = builder.Configuration.GetConnectionString("Chat");
        if (string.IsNullOrWhiteSpace(mySql))
        {
            var directory = ChatStorage.DataDirectory(builder.Environment);
            Directory.CreateDirectory(directory);
            var sqlite = $"Data Source={Path.Combine(directory, "chat.db")}";
            builder.Services.AddDbContextPool<ChatDbContext, SqliteChatDbContext>(o => o.UseSqlite(sqlite).AddInterceptors(new SqliteConnectionSettings()));
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

    /// <summary>
    /// Settings from files named as environment variables are (<c>Jwt__SigningKey</c> is <c>Jwt:SigningKey</c>), over
    /// every other source: secrets stay out of the environment, where any process of the same user, and a crash
    /// dump, can read them. Files without "__" (a database's own password file mounted beside them) are not settings.
    /// </summary>
    private static void AddSecretFiles(IConfigurationManager configuration)
    {
        var directory = Path.GetFullPath(configuration["Secrets:Directory"] ?? DefaultSecretsDirectory);
        if (Directory.Exists(directory))
        {
            configuration.AddKeyPerFile(source =>
            {
                source.FileProvider = new PhysicalFileProvider(directory);
                source.IgnoreCondition = name => !name.Contains("__", StringComparison.Ordinal);
            });
        }
    }

    /// <summary>
    /// X-Forwarded-For is believed only from a trusted proxy: by default a proxy on this host (loopback); with
    /// <c>ForwardedHeaders:KnownProxies</c> set, exactly the addresses listed there.
    /// </summary>
    private static void ConfigureForwardedHeaders(ForwardedHeadersOptions options, IConfiguration configuration)
    {
        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        var proxies = configuration.GetSection("ForwardedHeaders:KnownProxies").Get<string[]>();
        if (proxies is { Length: > 0 })
        {
            options.KnownIPNetworks.Clear();
            options.KnownProxies.Clear();
            foreach (var proxy in proxies)
            {
                options.KnownProxies.Add(IPAddress.Parse(proxy));
            }
        }
    }

    /// <summary>
    /// The middleware every request passes, in order: the headers every response carries, the client's real address
    /// (rate limits key on it), errors as problems, the <c>/api</c> body limit, the page's static files, Swagger, then
    /// who the caller is, and only then the limits that key on it.
    /// </summary>
    public static WebApplication UsePlatform(this WebApplication app)
    {
        app.UseSecurityHeaders();
        app.UseForwardedHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseApiBodyLimit();

        // The browser client (wwwroot): index.html at "/", under the page's Content-Security-Policy.
        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions { OnPrepareResponse = SecurityHeaders.AddPagePolicy });

        if (app.Services.GetRequiredService<IOptions<SwaggerOptions>>().Value.Enabled)
        {
            app.MapOpenApi();
            app.UseSwaggerUI(o => o.SwaggerEndpoint("/openapi/v1.json", "Chat v1"));
        }

        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    /// <summary><c>/health/live</c>: the process runs; <c>/health/ready</c>: the database and Redis answer.</summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) });
        return app;
    }
}
