using Chat.Api.Accounts;
using Chat.Domain.Presence;
using Microsoft.Extensions.Options;
using Chat.Api.Platform;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Chat.Api.Messaging;

/// <summary>
/// Stored messages: the hub (<see cref="ChatHub"/> at <c>/hubs/chat</c>) with SignalR itself (the only
/// <c>AddSignalR</c>) and its filter, how <c>Clients.User</c> reaches a user's connections
/// (<see cref="ChatHubLifetimeManager{THub}"/>, across instances through <see cref="RedisBackplane"/>), the batch writer
/// (<see cref="MessageWriter"/>), the reads (<see cref="ConversationEndpoints"/>), and the wire protocol's budget for
/// invalid invocations (<see cref="InvalidInvocationLimit"/>).
/// </summary>
public static class MessagingModule
{
    /// <summary>Room for a 4096-character message even when every character is JSON-escaped, plus the envelope.</summary>
    public const long MaximumHubMessageBytes = 32 * 1024;

    /// <summary>How many invocations of one connection run at once; its sends still store in order (<see cref="SendOrder"/>).</summary>
    public const int MaxInvocationsInFlightPerConnection = 16;

    public static IHostApplicationBuilder AddMessaging(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var redis = builder.UsesRedis();
        services.AddOptions<ChatHubOptions>().BindConfiguration(ChatHubOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MessageRateLimitOptions>().BindConfiguration(MessageRateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MessageStoreOptions>().BindConfiguration(MessageStoreOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<MessagingMetrics>();
        services.AddSingleton<MessageWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<MessageWriter>());
        services.AddSingleton<Messenger>();
        services.AddSingleton<ReadMarkers>();
        services.AddSingleton<IUserIdProvider, SubjectUserIdProvider>();
        services.AddSingleton<MessageRateLimitFilter>();

        services.AddSignalR(o =>
        {
            o.MaximumReceiveMessageSize = MaximumHubMessageBytes;
            // Sends wait for their batch to commit: one at a time, a connection would send one message per commit.
            o.MaximumParallelInvocationsPerClient = MaxInvocationsInFlightPerConnection;
            o.EnableDetailedErrors = builder.Environment.IsDevelopment();
            // Filters run in the order added, the first outermost: the session first, so a connection is tied to its
            // session before anything else runs; then each send's turn, before anything that may wait; then the
            // per-user limits.
            o.AddFilter<SessionFilter>();
            o.AddFilter<SendOrderFilter>();
            o.AddFilter<MessageRateLimitFilter>();
        });

        // SignalR's JSON protocol (the one AddSignalR registered) within a budget for invalid invocations.
        services.RemoveAll<IHubProtocol>();
        services.AddSingleton<IHubProtocol>(sp => new InvalidInvocationLimit(
            new JsonHubProtocol(sp.GetRequiredService<IOptions<JsonHubProtocolOptions>>()), sp.GetRequiredService<TimeProvider>()));

        // With Redis, the backplane rides on the instance's one Redis connection (PlatformModule), with its resilience.
        services.Replace(ServiceDescriptor.Singleton(typeof(HubLifetimeManager<>), typeof(ChatHubLifetimeManager<>)));
        if (redis)
        {
            services.AddHostedService<SyncAfterRedisOutage>();
        }

        return builder;
    }

    /// <summary>
    /// Negotiating a connection reserves room under <c>Hub:MaxConnectionsPerUser</c> (live connections and those
    /// negotiated but not started, on every instance): one token cannot pile up connection state. Beyond it, 429.
    /// </summary>
    private static void LimitNegotiations(EndpointBuilder endpoint)
    {
        if (endpoint is not RouteEndpointBuilder { RoutePattern.RawText: { } pattern } || !pattern.EndsWith("/negotiate", StringComparison.Ordinal)
            || endpoint.RequestDelegate is not { } negotiate)
        {
            return;
        }

        endpoint.RequestDelegate = async context =>
        {
            var services = context.RequestServices;
            var limit = services.GetRequiredService<IOptions<ChatHubOptions>>().Value.MaxConnectionsPerUser;
            if (context.User.Identity?.IsAuthenticated == true
                && !await services.GetRequiredService<IUserPresence>().TryReserveAsync(context.User.UserId(), limit, context.RequestAborted))
            {
                context.Response.Headers.RetryAfter = "5";
                await Results.Problem(
                    title: $"Too many connections: a user may hold at most {limit}. Close another one and retry.",
                    statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(context);
                return;
            }

            await negotiate(context);
        };
    }

    public static IEndpointRouteBuilder MapMessaging(this IEndpointRouteBuilder app)
    {
        // A connection ends when its access token does, so a revoked user is out within one access-token lifetime.
        app.MapHub<ChatHub>(ChatHub.Path, o => o.CloseOnAuthenticationExpiration = true).Add(LimitNegotiations);
        app.MapConversationEndpoints();
        return app;
    }
}
