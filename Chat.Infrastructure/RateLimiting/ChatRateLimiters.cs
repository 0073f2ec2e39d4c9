using System.Threading.RateLimiting;
using Chat.Infrastructure.Redis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Infrastructure.RateLimiting;

/// <summary>
/// The partitions behind Chat's two limits. With Redis each check is one script on the Redis server, so all instances
/// share one budget; without it (or while Redis is unreachable) the framework's own limiters apply the same settings.
/// </summary>
public sealed class ChatRateLimiters
{
    private readonly AuthRateLimitOptions auth;
    private readonly MessageRateLimitOptions messages;
    private readonly IConnectionMultiplexer? redis;
    private readonly RedisLimiterHealth health;
    private readonly TimeProvider time;

    internal ChatRateLimiters(
        IOptions<AuthRateLimitOptions> auth,
        IOptions<MessageRateLimitOptions> messages,
        IConnectionMultiplexer? redis,
        TimeProvider time,
        ILogger<ChatRateLimiters> logger)
    {
        this.auth = auth.Value;
        this.messages = messages.Value;
        this.redis = redis;
        this.time = time;
        health = new RedisLimiterHealth(logger);
    }

    /// <summary>The auth endpoints' budget for one client.</summary>
    public RateLimitPartition<string> AuthPartition(string client) => redis is null
        ? RateLimitPartition.GetFixedWindowLimiter(client, _ => FixedWindow(autoReplenishment: false))
        : RateLimitPartition.Get(client, key => new RedisRateLimiter(
            redis, RedisRateLimiter.FixedWindow, $"chat:limit:auth:{key}", [auth.PermitLimit, (long)auth.Window.TotalMilliseconds],
            () => new FixedWindowRateLimiter(FixedWindow(autoReplenishment: true)), health, time));

    /// <summary>One user's hub message budget.</summary>
    public RateLimitPartition<string> MessagePartition(string userId) => redis is null
        ? RateLimitPartition.GetTokenBucketLimiter(userId, _ => TokenBucket(autoReplenishment: false))
        : RateLimitPartition.Get(userId, key => new RedisRateLimiter(
            redis, RedisRateLimiter.TokenBucket, $"chat:limit:messages:{key}", [messages.PermitsPerSecond, messages.Burst],
            () => new TokenBucketRateLimiter(TokenBucket(autoReplenishment: true)), health, time));

    private FixedWindowRateLimiterOptions FixedWindow(bool autoReplenishment) => new()
    {
        PermitLimit = auth.PermitLimit,
        Window = auth.Window,
        QueueLimit = 0,
        AutoReplenishment = autoReplenishment,
    };

    // Driven by a partitioned limiter (no auto-replenishment) the bucket fills continuously at the period's rate.
    private TokenBucketRateLimiterOptions TokenBucket(bool autoReplenishment) => new()
    {
        TokenLimit = messages.Burst,
        TokensPerPeriod = messages.PermitsPerSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = autoReplenishment,
    };
}
