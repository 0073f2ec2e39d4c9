using Chat.Api.Platform;
using Chat.Domain.Presence;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Api.Presence;

/// <summary>
/// Presence shared by every instance. Each instance keeps a hash of its users' connection counts, and a sorted set
/// lists the instances by the time their heartbeat runs out (Redis's own clock): only those in time count. A user
/// whose last connection ends goes into the away set; a connect takes them out again, and once the grace period has
/// passed any instance hands the departure out (<see cref="TakeDeparturesAsync"/>). An instance whose heartbeat ran
/// out (a crash) is swept there too: its hash outlives its heartbeat for that, and its users become away as of its
/// last beat. Every step is one script, so concurrent connects of one user, and instances sweeping at once, agree.
/// </summary>
internal sealed partial class RedisUserPresence(
    IConnectionMultiplexer redis,
    IOptions<PresenceOptions> options,
    TimeProvider time,
    ILogger<RedisUserPresence> logger) : BackgroundService, IUserPresence
{
    private const string Now = """
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        """;

    private const string TotalOf = """
        local function total_of(user, live)
            local n = 0
            for _, id in ipairs(live) do n = n + (tonumber(redis.call('HGET', @prefix .. id, user)) or 0) end
            return n
        end
        """;

    // Returns {the user's connections on every live instance, 1 when they came online}. A delta that fails marks
    // the copy in Redis stale, and the next heartbeat rewrites it from the local counts.
    private static readonly LuaScript Change = Script(Now, TotalOf, """
        local n = redis.call('HINCRBY', @instanceKey, @userId, @delta)
        if n <= 0 then redis.call('HDEL', @instanceKey, @userId) end
        redis.call('PEXPIRE', @instanceKey, @keep)
        redis.call('ZADD', @instancesKey, now + @ttl, @instanceId)
        local total = total_of(@userId, redis.call('ZRANGEBYSCORE', @instancesKey, now, '+inf'))
        local came = 0
        if tonumber(@delta) > 0 then
            redis.call('ZPOPMIN', @negotiationsKey)
            local was_away = redis.call('ZREM', @awayKey, @userId)
            if total == 1 and was_away == 0 then came = 1 end
        elseif total == 0 then
            redis.call('ZADD', @awayKey, now, @userId)
        end
        return {total, came}
        """);

    private static readonly LuaScript Heartbeat = Script(Now, """
        redis.call('ZADD', @instancesKey, now + @ttl, @instanceId)
        return redis.call('PEXPIRE', @instanceKey, @keep)
        """);

    // KEYS: the instance's hash, the instance set; ARGV: keep, ttl, instance id, then user id / count pairs.
    private static readonly string Rewrite = string.Join('\n', Now, """
        redis.call('DEL', KEYS[1])
        for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
        redis.call('PEXPIRE', KEYS[1], ARGV[1])
        redis.call('ZADD', KEYS[2], now + ARGV[2], ARGV[3])
        return 1
        """);

    private static readonly LuaScript Online = Script(Now, """
        local seen, users = {}, {}
        for _, id in ipairs(redis.call('ZRANGEBYSCORE', @instancesKey, now, '+inf')) do
            for _, user in ipairs(redis.call('HKEYS', @prefix .. id)) do
                if not seen[user] then seen[user] = true; users[#users + 1] = user end
            end
        end
        return users
        """);

    // KEYS: the instance set, the away set; ARGV: the hash prefix, the grace period (ms), then user ids. Returns the
    // online ones: with a live connection, or gone for less than the grace period (no UserOffline has gone out).
    private static readonly string Which = string.Join('\n', Now, """
        local live = redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')
        local online = {}
        for i = 3, #ARGV do
            local found = false
            for _, id in ipairs(live) do
                if redis.call('HEXISTS', ARGV[1] .. id, ARGV[i]) == 1 then found = true; break end
            end
            if not found then
                local since = redis.call('ZSCORE', KEYS[2], ARGV[i])
                found = since and tonumber(since) > now - tonumber(ARGV[2])
            end
            if found then online[#online + 1] = ARGV[i] end
        end
        return online
        """);

    // Sweeps instances whose heartbeat ran out into the away set, then takes the users away for longer than the
    // grace period who have no live connection. Returns user id / last seen (ms) pairs.
    private static readonly LuaScript Depart = Script(Now, TotalOf, """
        local dead = redis.call('ZRANGEBYSCORE', @instancesKey, '-inf', '(' .. now, 'WITHSCORES')
        for i = 1, #dead, 2 do
            local hash = @prefix .. dead[i]
            for _, user in ipairs(redis.call('HKEYS', hash)) do
                redis.call('ZADD', @awayKey, 'NX', tonumber(dead[i + 1]) - @ttl, user)
            end
            redis.call('ZREM', @instancesKey, dead[i])
            redis.call('DEL', hash)
        end
        local live = redis.call('ZRANGEBYSCORE', @instancesKey, now, '+inf')
        local gone = {}
        local due = redis.call('ZRANGEBYSCORE', @awayKey, '-inf', now - @grace, 'WITHSCORES', 'LIMIT', 0, 1000)
        for i = 1, #due, 2 do
            redis.call('ZREM', @awayKey, due[i])
            if total_of(due[i], live) == 0 then
                gone[#gone + 1] = due[i]
                gone[#gone + 1] = due[i + 1]
            end
        end
        return gone
        """);

    // Returns 1 and reserves room when the user's live connections and open reservations are fewer than the limit.
    private static readonly LuaScript Reserve = Script(Now, TotalOf, """
        redis.call('ZREMRANGEBYSCORE', @negotiationsKey, '-inf', now)
        local total = total_of(@userId, redis.call('ZRANGEBYSCORE', @instancesKey, now, '+inf'))
        if total + redis.call('ZCARD', @negotiationsKey) >= tonumber(@limit) then return 0 end
        redis.call('ZADD', @negotiationsKey, now + @lapse, @reservation)
        redis.call('PEXPIRE', @negotiationsKey, @lapse)
        return 1
        """);

    // A clean stop: this instance's users who have no connection elsewhere become away now, and the instance goes.
    private static readonly LuaScript Leave = Script(Now, TotalOf, """
        redis.call('ZREM', @instancesKey, @instanceId)
        local live = redis.call('ZRANGEBYSCORE', @instancesKey, now, '+inf')
        for _, user in ipairs(redis.call('HKEYS', @instanceKey)) do
            if total_of(user, live) == 0 then redis.call('ZADD', @awayKey, now, user) end
        end
        return redis.call('DEL', @instanceKey)
        """);

    private readonly ConnectionCounts local = new();
    private readonly string instanceId = Guid.NewGuid().ToString("N");
    private volatile bool stale;
    private int stopped;

    private RedisKey InstanceKey => RedisKeys.PresenceInstance(instanceId);

    // Lines joined with newlines: Lua would read "end" followed by "local" as one word.
    private static LuaScript Script(params string[] parts) => LuaScript.Prepare(string.Join('\n', parts));

    private PresenceOptions Options => options.Value;

    private long TtlMilliseconds => (long)Options.Ttl.TotalMilliseconds;

    // The hash outlives the heartbeat, so that a crashed instance's users can still be read when it is swept.
    private long KeepMilliseconds => 3 * TtlMilliseconds;

    public async Task<bool> TryReserveAsync(string userId, int limit, CancellationToken cancellationToken = default) =>
        (int)await redis.GetDatabase().ScriptEvaluateAsync(Reserve, new
        {
            negotiationsKey = (RedisKey)RedisKeys.Negotiations(userId),
            instancesKey = (RedisKey)RedisKeys.PresenceInstances,
            prefix = RedisKeys.PresenceInstancePrefix,
            userId,
            limit,
            lapse = (long)PresenceOptions.NegotiationLapse.TotalMilliseconds,
            reservation = Guid.NewGuid().ToString("N"),
        }) == 1;

    public async Task<Arrival> ConnectedAsync(string userId, CancellationToken cancellationToken = default)
    {
        var here = local.Increment(userId);
        // Without Redis nothing is known of other instances: count this one's, announce nothing.
        return await ApplyAsync(userId, +1) is { } result ? new Arrival(result.Total, result.Came) : new Arrival(here, CameOnline: false);
    }

    public async Task<int> DisconnectedAsync(string userId, CancellationToken cancellationToken = default)
    {
        var here = local.Decrement(userId);
        return (await ApplyAsync(userId, -1))?.Total ?? here;
    }

    public async Task<IReadOnlyCollection<string>> GetOnlineUserIdsAsync(CancellationToken cancellationToken = default) =>
        (string[])(await redis.GetDatabase().ScriptEvaluateAsync(Online, new
        {
            instancesKey = (RedisKey)RedisKeys.PresenceInstances,
            prefix = RedisKeys.PresenceInstancePrefix,
        }))!;

    public async Task<IReadOnlySet<string>> WhichOnlineAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken = default)
    {
        if (userIds.Count == 0)
        {
            return new HashSet<string>();
        }

        var online = (string[])(await redis.GetDatabase().ScriptEvaluateAsync(
            Which,
            [RedisKeys.PresenceInstances, RedisKeys.PresenceAway],
            [RedisKeys.PresenceInstancePrefix, (long)Options.Grace.TotalMilliseconds, .. userIds.Select(id => (RedisValue)id)]))!;
        return online.ToHashSet(StringComparer.Ordinal);
    }

    public async Task<IReadOnlyList<Departure>> TakeDeparturesAsync(CancellationToken cancellationToken = default)
    {
        var gone = (RedisValue[])(await redis.GetDatabase().ScriptEvaluateAsync(Depart, new
        {
            instancesKey = (RedisKey)RedisKeys.PresenceInstances,
            awayKey = (RedisKey)RedisKeys.PresenceAway,
            prefix = RedisKeys.PresenceInstancePrefix,
            ttl = TtlMilliseconds,
            grace = (long)Options.Grace.TotalMilliseconds,
        }))!;
        return gone.Chunk(2).Select(pair => new Departure(pair[0]!, DateTimeOffset.FromUnixTimeMilliseconds((long)pair[1]))).ToList();
    }

    /// <returns>The user's connections on every instance and whether they came online; null when Redis could not be reached.</returns>
    private async Task<(int Total, bool Came)?> ApplyAsync(string userId, int delta)
    {
        try
        {
            var result = (long[])(await redis.GetDatabase().ScriptEvaluateAsync(Change, new
            {
                instanceKey = InstanceKey,
                instancesKey = (RedisKey)RedisKeys.PresenceInstances,
                awayKey = (RedisKey)RedisKeys.PresenceAway,
                negotiationsKey = (RedisKey)RedisKeys.Negotiations(userId),
                prefix = RedisKeys.PresenceInstancePrefix,
                instanceId,
                userId,
                delta,
                ttl = TtlMilliseconds,
                keep = KeepMilliseconds,
            }))!;
            return ((int)result[0], result[1] == 1);
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
        using var timer = new PeriodicTimer(Options.HeartbeatInterval, time);
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
            var args = new { instanceKey = InstanceKey, instancesKey = (RedisKey)RedisKeys.PresenceInstances, instanceId, ttl = TtlMilliseconds, keep = KeepMilliseconds };
            var renewed = (bool)await db.ScriptEvaluateAsync(Heartbeat, args);
            var snapshot = local.Snapshot();
            if (stale || (!renewed && snapshot.Count > 0))
            {
                // Redis lost this instance's hash (restart, flush, eviction) or missed a change: re-register.
                stale = false;
                RedisValue[] values = [KeepMilliseconds, TtlMilliseconds, instanceId, .. snapshot.SelectMany(p => new RedisValue[] { p.Key, p.Value })];
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
        // disposing) the connection, the heartbeat's end removes this instance's users instead.
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(Leave, new
            {
                instanceKey = InstanceKey,
                instancesKey = (RedisKey)RedisKeys.PresenceInstances,
                awayKey = (RedisKey)RedisKeys.PresenceAway,
                prefix = RedisKeys.PresenceInstancePrefix,
                instanceId,
            });
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
