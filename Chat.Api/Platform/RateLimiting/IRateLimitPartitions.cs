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

    /// <summary>
    /// Takes one of <c>permitLimit</c> permits per fixed <c>window</c>, a permit that can be given back
    /// (<see cref="WindowPermit.ReturnAsync"/>): for budgets that only some outcomes spend, taken before the outcome is
    /// known, so that callers racing each other can never together get past the budget. A refused take spends nothing.
    /// </summary>
    ValueTask<WindowPermit> TakeReturnableAsync(string limit, string partition, int permitLimit, TimeSpan window);
}

/// <summary>Single-instance mode: the framework's own limiters, and this process's returnable windows.</summary>
internal sealed class LocalRateLimitPartitions(TimeProvider time) : IRateLimitPartitions
{
    private readonly LocalReturnableWindows returnable = new(time);

    // Driven by a partitioned limiter (no auto-replenishment), limiters refill as they are asked.
    public RateLimitPartition<string> FixedWindow(string limit, string partition, int permitLimit, TimeSpan window) =>
        RateLimitPartition.GetFixedWindowLimiter(partition, _ => FixedWindowOptions(permitLimit, window, autoReplenishment: false));

    public RateLimitPartition<string> TokenBucket(string limit, string partition, int tokensPerSecond, int burst) =>
        RateLimitPartition.GetTokenBucketLimiter(partition, _ => TokenBucketOptions(tokensPerSecond, burst, autoReplenishment: false));

    public ValueTask<WindowPermit> TakeReturnableAsync(string limit, string partition, int permitLimit, TimeSpan window) =>
        ValueTask.FromResult(returnable.Take($"{limit}:{partition}", permitLimit, window));

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
