using Chat.Api.Platform;
using Chat.Domain.Presence;

namespace Chat.Api.Presence;

/// <summary>
/// Who is online: with Redis, every instance's connection counts in Redis (<see cref="RedisUserPresence"/>, renewed by
/// a heartbeat so a crashed instance's users expire); without it, this process's own (<see cref="InProcessUserPresence"/>).
/// <see cref="ContactPresence"/> tells contacts who comes and goes, and keeps last-seen times; <see cref="OnlineUsers"/>
/// lists everyone online, one shared fetch at a time.
/// </summary>
public static class PresenceModule
{
    public static IHostApplicationBuilder AddPresence(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<PresenceOptions>().BindConfiguration(PresenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        if (builder.UsesRedis())
        {
            services.AddSingleton<RedisUserPresence>();
            services.AddSingleton<IUserPresence>(sp => sp.GetRequiredService<RedisUserPresence>());
            services.AddHostedService(sp => sp.GetRequiredService<RedisUserPresence>());
        }
        else
        {
            services.AddSingleton<IUserPresence, InProcessUserPresence>();
        }

        services.AddSingleton<OnlineUsers>();
        services.AddSingleton<PresenceMetrics>();
        services.AddSingleton<LastSeenWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<LastSeenWriter>());
        services.AddSingleton<ContactPresence>();
        services.AddHostedService(sp => sp.GetRequiredService<ContactPresence>());

        return builder;
    }
}
