using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace Chat.Api.Platform.RateLimiting;

/// <summary>
/// One partition of a limit kept in Redis: every check is one Lua script, timed by the Redis server's clock, so any
/// number of instances together admit no more than one would. When Redis cannot be reached the check goes to a local
/// limiter with the same settings: degraded to per-instance, never unlimited.
/// </summary>
internal sealed class RedisRateLimiter(
    IConnectionMultiplexer redis,
    string script,
    RedisKey key,
    RedisValue[] arguments,
    Func<RateLimiter> createFallback,
    RedisLimiterHealth health,
    TimeProvider time) : RateLimiter
{
    /// <summary>ARGV: limit, window in ms. Every call counts, rejected ones included. Returns {admitted, retry after ms}.</summary>
    public const string FixedWindow = """
        local n = redis.call('INCR', KEYS[1])
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < 0 then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            ttl = tonumber(ARGV[2])
        end
        if n <= tonumber(ARGV[1]) then return {1, 0} end
        return {0, ttl}
        """;

    /// <summary>ARGV: tokens per second, burst. Returns {admitted, retry after ms}.</summary>
    public const string TokenBucket = """
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
        tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
        local admitted, retry = 0, 0
        if tokens >= 1 then
            tokens = tokens - 1
            admitted = 1
        else
            retry = math.ceil((1 - tokens) * 1000 / rate)
        end
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
        redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
        return {admitted, retry}
        """;

    private readonly Lock gate = new();
    private RateLimiter? fallback;
    private long lastUsed = time.GetTimestamp();

    public override TimeSpan? IdleDuration => time.GetElapsedTime(Volatile.Read(ref lastUsed));

    public override RateLimiterStatistics? GetStatistics() => null;

    // Redis cannot answer synchronously. "Not acquired" without counting sends every caller, the framework's
    // rate-limiting middleware included, on to AcquireAsync, which counts.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Lease.Pending;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Volatile.Write(ref lastUsed, time.GetTimestamp());
        if (permitCount == 0)
        {
            return Lease.Admitted;
        }

        try
        {
            var result = (long[])(await redis.GetDatabase().ScriptEvaluateAsync(script, [key], arguments))!;
            health.Succeeded();
            return result[0] == 1 ? Lease.Admitted : Lease.Rejected(TimeSpan.FromMilliseconds(result[1]));
        }
        catch (RedisException ex)
        {
            health.Failed(ex);
            return await Fallback().AcquireAsync(permitCount, cancellationToken);
        }
    }

    private RateLimiter Fallback()
    {
        lock (gate)
        {
            return fallback ??= createFallback();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            fallback?.Dispose();
        }
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Admitted = new(true, null);
        public static readonly Lease Pending = new(false, null);

        public static Lease Rejected(TimeSpan retryAfter) => new(false, retryAfter);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}

/// <summary>Logs when rate limits leave Redis for local limiters and when they come back, not at every check.</summary>
internal sealed partial class RedisLimiterHealth(ILogger logger)
{
    private int degraded;

    public void Failed(RedisException ex)
    {
        if (Interlocked.Exchange(ref degraded, 1) == 0)
        {
            LogDegraded(logger, ex);
        }
    }

    public void Succeeded()
    {
        if (Volatile.Read(ref degraded) == 1 && Interlocked.Exchange(ref degraded, 0) == 1)
        {
            LogRestored(logger);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Redis is unreachable: rate limits fall back to this instance's local limiters with the same settings")]
    private static partial void LogDegraded(ILogger logger, Exception ex);

    [LoggerMessage(LogLevel.Information, "Redis is reachable again: rate limits are shared across instances again")]
    private static partial void LogRestored(ILogger logger);
}
