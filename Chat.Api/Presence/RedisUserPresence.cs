using Chat.Api.Platform;
using Chat.Domain.Presence;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Api.Presence;

/// <summary>
/// Presence shared by every instance. Each instance keeps a hash of its users' connection counts that expires unless
/// the instance's heartbeat renews it, and a sorted set lists the instances by the time their hash expires (Redis's
/// own clock). A crashed instance's users therefore drop out within the TTL; a clean shutdown removes them at once.
/// </summary>
internal sealed partial class RedisUserPresence(
    IConnectionMultiplexer redis,
    IOptions<PresenceOptions> options,
    TimeProvider time,
    ILogger<RedisUserPresence> logger) : BackgroundService, IUserPresence
{
    // Returns the user's connections on every live instance. Deltas keep concurrent connects of one user correct without a lock; a delta that fails marks the copy in Redis
    // stale, and the next heartbeat rewrites it from the local counts.
    private static readonly LuaScript Change = LuaScript.Prepare("""
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        local n = redis.call('HINCRBY', @instanceKey, @userId, @delta)
        if n <= 0 then redis.call('HDEL', @instanceKey, @userId) end
        redis.call('PEXPIRE', @instanceKey, @ttl)
        redis.call('ZADD', @instancesKey, now + @ttl, @instanceId)
        local total = 0
        for _, id in ipairs(redis.call('ZRANGEBYSCORE', @instancesKey, now, '+inf')) do
            total = total + (tonumber(redis.call('HGET', @prefix .. id, @userId)) or 0)
        end
        return total
        """);

    private static readonly LuaScript Heartbeat = LuaScript.Prepare("""
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        redis.call('ZADD', @instancesKey, now + @ttl, @instanceId)
        return redis.call('PEXPIRE', @instanceKey, @ttl)
        """);

    // KEYS: the instance's hash, the instance set; ARGV: ttl, instance id, then user id / count pairs.
    private const string Rewrite = """
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        redis.call('DEL', KEYS[1])
        for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
        redis.call('PEXPIRE', KEYS[1], ARGV[1])
        redis.call('ZADD', KEYS[2], now + ARGV[1], ARGV[2])
        return 1
        """;

    // Reads every live instance's hash in one round trip; instances whose time is up are dropped on the way.
    private static readonly LuaScript Online = LuaScript.Prepare("""
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        redis.call('ZREMRANGEBYSCORE', @instancesKey, '-inf', now)
        local seen, users = {}, {}
        for _, id in ipairs(redis.call('ZRANGE', @instancesKey, 0, -1)) do
            for _, user in ipairs(redis.call('HKEYS', @prefix .. id)) do
                if not seen[user] then seen[user] = true; users[#users + 1] = user end
            end
        end
        return users
        """);

    private readonly ConnectionCounts local = new();
    private readonly string instanceId = Guid.NewGuid().ToString("N");
    private volatile bool stale;
    private int stopped;

    private RedisKey InstanceKey => RedisKeys.PresenceInstance(instanceId);

    private long TtlMilliseconds => (long)options.Value.Ttl.TotalMilliseconds;

    public async Task<int> ConnectedAsync(string userId, CancellationToken cancellationToken = default)
    {
        var here = local.Increment(userId);
        return await ApplyAsync(userId, +1) ?? here;
    }

    public async Task DisconnectedAsync(string userId, CancellationToken cancellationToken = default)
    {
        local.Decrement(userId);
        await ApplyAsync(userId, -1);
    }

    public async Task<IReadOnlyCollection<string>> GetOnlineUserIdsAsync(CancellationToken cancellationToken = default)
    {
        var result = await redis.GetDatabase().ScriptEvaluateAsync(Online, new
        {
            instancesKey = (RedisKey)RedisKeys.PresenceInstances,
            prefix = RedisKeys.PresenceInstancePrefix,
        });
        return (string[])result!;
    }

    /// <returns>The user's connections on every instance, or null when Redis could not be reached.</returns>
    private async Task<int?> ApplyAsync(string userId, int delta)
    {
        try
        {
            return (int)await redis.GetDatabase().ScriptEvaluateAsync(Change, new
            {
                instanceKey = InstanceKey,
                instancesKey = (RedisKey)RedisKeys.PresenceInstances,
                prefix = RedisKeys.PresenceInstancePrefix,
                instanceId,
                userId,
                delta,
                ttl = TtlMilliseconds,
            });
        }
        catch (RedisException ex)
        {
            // The connection itself is fine: presence catches up at the next heartbeat.
            stale = true;
            LogWriteFailed(logger, ex);
            return null;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await BeatAsync();
        }
    }

    internal async Task BeatAsync()
    {
        try
        {
            var db = redis.GetDatabase();
            var args = new { instanceKey = InstanceKey, instancesKey = (RedisKey)RedisKeys.PresenceInstances, instanceId, ttl = TtlMilliseconds };
            var renewed = (bool)await db.ScriptEvaluateAsync(Heartbeat, args);
            var snapshot = local.Snapshot();
            if (stale || (!renewed && snapshot.Count > 0))
            {
                // Redis lost this instance's hash (restart, flush, eviction) or missed a change: re-register.
                stale = false;
                RedisValue[] values = [TtlMilliseconds, instanceId, .. snapshot.SelectMany(p => new RedisValue[] { p.Key, p.Value })];
                await db.ScriptEvaluateAsync(Rewrite, [InstanceKey, RedisKeys.PresenceInstances], values);
                LogReRegistered(logger, snapshot.Count);
            }
        }
        catch (RedisException ex)
        {
            stale = true;
            LogWriteFailed(logger, ex);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (Interlocked.Exchange(ref stopped, 1) == 1)
        {
            return;
        }

        // Best effort: when Redis is away, or a host stopped from two threads at once has already disposed (or is
        // disposing) the connection, the TTL removes this instance's users instead.
        try
        {
            var db = redis.GetDatabase();
            await db.SortedSetRemoveAsync(RedisKeys.PresenceInstances, instanceId);
            await db.KeyDeleteAsync(InstanceKey);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException or OperationCanceledException)
        {
            LogWriteFailed(logger, ex);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Presence could not be written to Redis; the next heartbeat retries")]
    private static partial void LogWriteFailed(ILogger logger, Exception ex);

    [LoggerMessage(LogLevel.Information, "Presence re-registered {Users} user(s) of this instance in Redis")]
    private static partial void LogReRegistered(ILogger logger, int users);
}
