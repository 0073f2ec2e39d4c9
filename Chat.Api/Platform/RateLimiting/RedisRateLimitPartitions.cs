using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace Chat.Api.Platform.RateLimiting;

/// <summary>
/// Redis mode: each check is one script on the Redis server, so all instances share one budget. While Redis is
/// unreachable each partition falls back to a local limiter with the same settings: per instance, never unlimited.
/// </summary>
internal sealed class RedisRateLimitPartitions(IConnectionMultiplexer redis, TimeProvider time, ILogger<RedisRateLimitPartitions> logger)
    : IRateLimitPartitions
{
    /// <summary>
    /// ARGV: limit, window in ms. A hash: <c>n</c> permits taken, <c>id</c> the window (Redis's time when it began), so
    /// that a permit goes back only to its own window. Returns {1, window id} or {0, retry after ms}; a refusal spends
    /// nothing.
    /// </summary>
    internal const string TakeReturnable = """
        local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
        local state = redis.call('HMGET', KEYS[1], 'n', 'id')
        local n, id = tonumber(state[1]) or 0, state[2]
        if n >= limit then
            local ttl = redis.call('PTTL', KEYS[1])
            if ttl < 0 then ttl = window end
            return {0, ttl}
        end
        if not id then
            local t = redis.call('TIME')
            id = t[1] .. '.' .. t[2]
            redis.call('HSET', KEYS[1], 'id', id)
            redis.call('PEXPIRE', KEYS[1], window)
        end
        redis.call('HINCRBY', KEYS[1], 'n', 1)
        return {1, id}
        """;

    /// <summary>ARGV: the window id the permit was taken in. The last permit of a window takes the window with it.</summary>
    internal const string ReturnToWindow = """
        if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
        if redis.call('HINCRBY', KEYS[1], 'n', -1) <= 0 then redis.call('DEL', KEYS[1]) end
        return 1
        """;

    private readonly RedisLimiterHealth health = new(logger);
    private readonly LocalReturnableWindows returnableFallback = new(time);

    public RateLimitPartition<string> FixedWindow(string limit, string partition, int permitLimit, TimeSpan window) =>
        RateLimitPartition.Get(partition, key => new RedisRateLimiter(
            redis, RedisRateLimiter.FixedWindow, RedisKeys.RateLimit(limit, key), [permitLimit, (long)window.TotalMilliseconds], ahead: 0,
            () => new FixedWindowRateLimiter(LocalRateLimitPartitions.FixedWindowOptions(permitLimit, window, autoReplenishment: true)),
            health, time));

    public RateLimitPartition<string> TokenBucket(string limit, string partition, int tokensPerSecond, int burst) =>
        RateLimitPartition.Get(partition, key => new RedisRateLimiter(
            redis, RedisRateLimiter.TokenBucket, RedisKeys.RateLimit(limit, key), [tokensPerSecond, burst], LeaseAhead(tokensPerSecond),
            () => new TokenBucketRateLimiter(LocalRateLimitPartitions.TokenBucketOptions(tokensPerSecond, burst, autoReplenishment: true)),
            health, time));

    /// <summary>
    /// Permits a token bucket leases ahead of need: a tenth of a second's worth, at least one. A fixed window leases
    /// none, as every permit it is asked for counts, granted or not.
    /// </summary>
    private static int LeaseAhead(int tokensPerSecond) => Math.Max(1, (int)Math.Ceiling(tokensPerSecond / 10.0));

    public async ValueTask<WindowPermit> TakeReturnableAsync(string limit, string partition, int permitLimit, TimeSpan window)
    {
        var key = RedisKeys.RateLimit(limit, partition);
        try
        {
            var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(TakeReturnable, [key], [permitLimit, (long)window.TotalMilliseconds]))!;
            health.Succeeded();
            if ((long)result[0] != 1)
            {
                return WindowPermit.Refused(TimeSpan.FromMilliseconds((long)result[1]));
            }

            var windowId = (string)result[1]!;
            return WindowPermit.Taken(() => ReturnAsync(key, windowId));
        }
        catch (RedisException ex)
        {
            health.Failed(ex);
            return returnableFallback.Take(key, permitLimit, window);
        }
    }

    private async ValueTask ReturnAsync(string key, string windowId)
    {
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(ReturnToWindow, [key], [windowId]);
            health.Succeeded();
        }
        catch (RedisException ex)
        {
            // The permit stays taken until its window ends: the budget errs towards less, never towards more.
            health.Failed(ex);
        }
    }
}
