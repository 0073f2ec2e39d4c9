using System.Threading.RateLimiting;

namespace Chat.Api.Platform.RateLimiting;

/// <summary>
/// The partitions behind Chat's limits, for the framework's partitioned limiters. Registered by
/// <see cref="PlatformModule"/>: with Redis, one budget shared by every instance; without it, this instance's own.
/// </summary>
public interface IRateLimitPartitions
{
    /// <summary>
    /// At most <c>permitLimit</c> calls per <c>window</c>; every call counts, rejected ones too. <c>limit</c> names the
    /// limit ("auth"): partitions of different limits never share a budget; <c>partition</c> says whose budget it is.
    /// </summary>
    RateLimitPartition<string> FixedWindow(string limit, string partition, int permitLimit, TimeSpan window);

    /// <summary>A bucket of <paramref name="burst"/> tokens that refills at <paramref name="tokensPerSecond"/>.</summary>
    RateLimitPartition<string> TokenBucket(string limit, string partition, int tokensPerSecond, int burst);
}

/// <summary>Single-instance mode: the framework's own limiters.</summary>
internal sealed class LocalRateLimitPartitions : IRateLimitPartitions
{
    // Driven by a partitioned limiter (no auto-replenishment), limiters refill as they are asked.
    public RateLimitPartition<string> FixedWindow(string limit, string partition, int permitLimit, TimeSpan window) =>
        RateLimitPartition.GetFixedWindowLimiter(partition, _ => FixedWindowOptions(permitLimit, window, autoReplenishment: false));

    public RateLimitPartition<string> TokenBucket(string limit, string partition, int tokensPerSecond, int burst) =>
        RateLimitPartition.GetTokenBucketLimiter(partition, _ => TokenBucketOptions(tokensPerSecond, burst, autoReplenishment: false));

    internal static FixedWindowRateLimiterOptions FixedWindowOptions(int permitLimit, TimeSpan window, bool autoReplenishment) => new()
    {
        PermitLimit = permitLimit,
        Window = window,
        QueueLimit = 0,
        AutoReplenishment = autoReplenishment,
    };

    internal static TokenBucketRateLimiterOptions TokenBucketOptions(int tokensPerSecond, int burst, bool autoReplenishment) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = tokensPerSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = autoReplenishment,
    };
}
