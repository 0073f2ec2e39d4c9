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
    private readonly RedisLimiterHealth health = new(logger);

    public RateLimitPartition<string> FixedWindow(string limit, string partition, int permitLimit, TimeSpan window) =>
        RateLimitPartition.Get(partition, key => new RedisRateLimiter(
            redis, RedisRateLimiter.FixedWindow, RedisKeys.RateLimit(limit, key), [permitLimit, (long)window.TotalMilliseconds],
            () => new FixedWindowRateLimiter(LocalRateLimitPartitions.FixedWindowOptions(permitLimit, window, autoReplenishment: true)),
            health, time));

    public RateLimitPartition<string> TokenBucket(string limit, string partition, int tokensPerSecond, int burst) =>
        RateLimitPartition.Get(partition, key => new RedisRateLimiter(
            redis, RedisRateLimiter.TokenBucket, RedisKeys.RateLimit(limit, key), [tokensPerSecond, burst],
            () => new TokenBucketRateLimiter(LocalRateLimitPartitions.TokenBucketOptions(tokensPerSecond, burst, autoReplenishment: true)),
            health, time));
}
