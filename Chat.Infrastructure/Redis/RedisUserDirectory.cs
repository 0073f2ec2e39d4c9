using System.Collections.Concurrent;
using Chat.Domain.Users;
using Chat.Infrastructure.Persistence;
using Chat.Infrastructure.Presence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Infrastructure.Redis;

/// <summary>
/// User ids in a Redis set that signups on every instance add to, with a local cache in front: users are never
/// deleted, so a positive answer never goes stale and a known receiver costs no round trip at all. A marker key says
/// the set is complete; when Redis has lost it, the set is reloaded from the database.
/// </summary>
internal sealed partial class RedisUserDirectory(
    IConnectionMultiplexer redis,
    IServiceScopeFactory scopes,
    IOptions<PresenceOptions> presence,
    TimeProvider time,
    ILogger<RedisUserDirectory> logger) : BackgroundService, IUserDirectory
{
    private const string UsersKey = "chat:users";
    private const string CompleteKey = "chat:users:complete";
    private const int BatchSize = 1000;

    private readonly ConcurrentDictionary<string, byte> known = new(StringComparer.Ordinal);

    public async ValueTask<bool> ContainsAsync(string userId, CancellationToken cancellationToken = default)
    {
        if (known.ContainsKey(userId))
        {
            return true;
        }

        if (!await redis.GetDatabase().SetContainsAsync(UsersKey, userId))
        {
            return false;
        }

        known.TryAdd(userId, 0);
        return true;
    }

    public async Task AddAsync(string userId, CancellationToken cancellationToken = default)
    {
        known.TryAdd(userId, 0);
        await redis.GetDatabase().SetAddAsync(UsersKey, userId);
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await SyncAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(presence.Value.HeartbeatInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await SyncAsync(stoppingToken);
        }
    }

    private async Task SyncAsync(CancellationToken cancellationToken)
    {
        try
        {
            var db = redis.GetDatabase();
            if (await db.KeyExistsAsync(CompleteKey))
            {
                return;
            }

            await using var scope = scopes.CreateAsyncScope();
            var users = scope.ServiceProvider.GetRequiredService<ChatDbContext>().Users.AsNoTracking();
            var count = 0;
            var batch = new List<RedisValue>(BatchSize);
            await foreach (var id in users.Select(u => u.Id).AsAsyncEnumerable().WithCancellation(cancellationToken))
            {
                batch.Add(id);
                if (batch.Count == BatchSize)
                {
                    count += batch.Count;
                    await db.SetAddAsync(UsersKey, [.. batch]);
                    batch.Clear();
                }
            }

            if (batch.Count > 0)
            {
                count += batch.Count;
                await db.SetAddAsync(UsersKey, [.. batch]);
            }

            await db.StringSetAsync(CompleteKey, 1);
            LogLoaded(logger, count);
        }
        catch (RedisException ex)
        {
            LogSyncFailed(logger, ex);
        }
    }

    [LoggerMessage(LogLevel.Information, "Loaded {Count} user id(s) into the Redis user directory")]
    private static partial void LogLoaded(ILogger logger, int count);

    [LoggerMessage(LogLevel.Warning, "The Redis user directory could not be checked; it is retried at the next heartbeat")]
    private static partial void LogSyncFailed(ILogger logger, Exception ex);
}
