using Chat.Api.Platform;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace Chat.Api.Messaging;

/// <summary>
/// The hub (<see cref="ChatHub"/> at <c>/hubs/chat</c>) and everything around it: SignalR itself (the only
/// <c>AddSignalR</c>), its filters in order, and how <c>Clients.User</c> reaches a user's connections — the Redis
/// backplane across instances, or <see cref="UserIndexedHubLifetimeManager{THub}"/> on a single one.
/// </summary>
public static class MessagingModule
{
    /// <summary>Room for a 4096-character message even when every character is JSON-escaped, plus the envelope.</summary>
    public const long MaximumHubMessageBytes = 32 * 1024;

    public static IHostApplicationBuilder AddMessaging(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var redis = builder.UsesRedis();
        services.AddOptions<ChatHubOptions>().BindConfiguration(ChatHubOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MessageRateLimitOptions>().BindConfiguration(MessageRateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IUserIdProvider, SubjectUserIdProvider>();
        services.AddSingleton<DeliveryUnavailableFilter>();
        services.AddSingleton<MessageRateLimitFilter>();

        var signalR = services.AddSignalR(o =>
        {
            o.MaximumReceiveMessageSize = MaximumHubMessageBytes;
            o.EnableDetailedErrors = builder.Environment.IsDevelopment();
            // Filters run in the order added, the first outermost. A Redis failure anywhere inside, the rate limit's
            // own check included, becomes "delivery is unavailable" (there is no Redis to fail in embedded mode).
            if (redis)
            {
                o.AddFilter<DeliveryUnavailableFilter>();
            }

            o.AddFilter<MessageRateLimitFilter>();
        });

        if (redis)
        {
            // The backplane rides on the instance's one Redis connection (PlatformModule), with its resilience.
            signalR.AddStackExchangeRedis(o => o.Configuration.ChannelPrefix = RedisChannel.Literal(RedisKeys.ChannelPrefix));
            services.AddOptions<RedisOptions>().Configure<IConnectionMultiplexer>((o, connection) =>
                o.ConnectionFactory = _ => Task.FromResult(connection));
        }
        else
        {
            services.Replace(ServiceDescriptor.Singleton(typeof(HubLifetimeManager<>), typeof(UserIndexedHubLifetimeManager<>)));
        }

        return builder;
    }

    /// <summary>A connection ends when its access token does, so a revoked user is out within one access-token lifetime.</summary>
    public static IEndpointRouteBuilder MapMessaging(this IEndpointRouteBuilder app)
    {
        app.MapHub<ChatHub>(ChatHub.Path, o => o.CloseOnAuthenticationExpiration = true);
        return app;
    }
}
