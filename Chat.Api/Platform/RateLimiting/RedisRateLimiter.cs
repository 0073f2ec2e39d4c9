using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace Chat.Api.Platform.RateLimiting;

/// <summary>
/// One partition of a limit kept in Redis, timed by the Redis server's clock, so any number of instances together
/// admit no more than one would. One script call at a time per partition: the acquisitions that come while it is in
/// flight (a user's sends arrive in bursts) go together in the next call, which asks for all of them at once and
/// admits them in order as far as the limit allows. A token bucket also hands out up to <c>ahead</c> permits beyond
/// those asked for, from the upper half of the bucket only; this instance spends them on the next acquisitions
/// without a call, and drops what it has not spent within <see cref="CreditLifetime"/>. So a busy user costs Redis
/// one call per burst or per lease rather than one per message; permits leased to one instance and unspent there are
/// the only ones another instance may miss (never more than <c>ahead</c> a partition, and none while the bucket is
/// less than half full). When Redis cannot be reached the check goes to a local limiter with the same settings:
/// degraded to per-instance, never unlimited.
/// </summary>
internal sealed class RedisRateLimiter(
    IConnectionMultiplexer redis,
    string script,
    RedisKey key,
    RedisValue[] arguments,
    int ahead,
    Func<RateLimiter> createFallback,
    RedisLimiterHealth health,
    TimeProvider time) : RateLimiter
{
    /// <summary>
    /// ARGV: limit, window in ms, permits wanted. Every permit wanted counts, refused ones included. Returns {permits
    /// admitted, retry after ms}.
    /// </summary>
    public const string FixedWindow = """
        local wanted = tonumber(ARGV[3])
        local n = redis.call('INCRBY', KEYS[1], wanted)
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < 0 then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            ttl = tonumber(ARGV[2])
        end
        local admitted = math.max(0, math.min(wanted, tonumber(ARGV[1]) - (n - wanted)))
        if admitted == wanted then return {admitted, 0} end
        return {admitted, ttl}
        """;

    /// <summary>
    /// ARGV: tokens per second, burst, permits wanted, permits to lease ahead. Returns {permits admitted, retry after
    /// ms}: all those wanted plus what could be leased, or fewer than wanted and when to try again.
    /// </summary>
    public const string TokenBucket = """
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        local rate, burst, wanted, ahead = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
        tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
        local admitted = math.min(wanted, math.floor(tokens))
        if admitted == wanted then
            admitted = admitted + math.max(0, math.min(ahead, math.floor(tokens - wanted - burst / 2)))
        end
        tokens = tokens - admitted
        local retry = 0
        if admitted < wanted then retry = math.ceil((1 - tokens) * 1000 / rate) end
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
        redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
        return {admitted, retry}
        """;

    /// <summary>How long permits leased ahead may wait to be spent: a user who stopped sending leaves none behind.</summary>
    private static readonly TimeSpan CreditLifetime = TimeSpan.FromSeconds(1);

    private readonly Lock gate = new();
    private RateLimiter? fallback;
    private List<Waiter> waiting = [];
    private bool calling;
    private long lastUsed = time.GetTimestamp();

    /// <summary>Permits leased ahead and not spent yet (under <see cref="gate"/>), good until <see cref="creditUntil"/>.</summary>
    private long credit;
    private long creditUntil;

    public override TimeSpan? IdleDuration => time.GetElapsedTime(Volatile.Read(ref lastUsed));

    public override RateLimiterStatistics? GetStatistics() => null;

    // Redis cannot answer synchronously. "Not acquired" without counting sends every caller, the framework's
    // rate-limiting middleware included, on to AcquireAsync, which counts.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Lease.Pending;

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Volatile.Write(ref lastUsed, time.GetTimestamp());
        if (permitCount == 0)
        {
            return ValueTask.FromResult<RateLimitLease>(Lease.Admitted);
        }

        Waiter waiter;
        lock (gate)
        {
            // Waiters go first: a credit is spent only by acquisitions that would not overtake one.
            if (waiting.Count == 0 && TrySpendCredit(permitCount))
            {
                return ValueTask.FromResult<RateLimitLease>(Lease.Admitted);
            }

            waiter = new Waiter(permitCount);
            waiting.Add(waiter);
            if (calling)
            {
                return new ValueTask<RateLimitLease>(waiter.Lease.Task);
            }

            calling = true;
        }

        _ = CallAsync();
        return new ValueTask<RateLimitLease>(waiter.Lease.Task);
    }

    private async Task CallAsync()
    {
        while (true)
        {
            List<Waiter> batch;
            lock (gate)
            {
                // What came while the last call was in flight may be covered by what it leased.
                var covered = 0;
                while (covered < waiting.Count && TrySpendCredit(waiting[covered].Permits))
                {
                    waiting[covered++].Lease.SetResult(Lease.Admitted);
                }

                waiting.RemoveRange(0, covered);
                if (waiting.Count == 0)
                {
                    calling = false;
                    return;
                }

                (batch, waiting) = (waiting, []);
            }

            var wanted = 0;
            foreach (var waiter in batch)
            {
                wanted += waiter.Permits;
            }

            try
            {
                var result = (long[])(await redis.GetDatabase().ScriptEvaluateAsync(script, [key], [.. arguments, wanted, ahead]))!;
                health.Succeeded();
                // In the order they came: once one does not fit, neither do the ones after it (they were counted).
                var admitted = result[0];
                foreach (var waiter in batch)
                {
                    var fits = admitted >= waiter.Permits;
                    admitted = fits ? admitted - waiter.Permits : 0;
                    waiter.Lease.SetResult(fits ? Lease.Admitted : Lease.Rejected(TimeSpan.FromMilliseconds(result[1])));
                }

                if (admitted > 0)
                {
                    lock (gate)
                    {
                        credit += admitted;
                        creditUntil = time.GetTimestamp() + (long)(CreditLifetime.TotalSeconds * time.TimestampFrequency);
                    }
                }
            }
            catch (RedisException ex)
            {
                health.Failed(ex);
                foreach (var waiter in batch)
                {
                    waiter.Lease.SetResult(await Fallback().AcquireAsync(waiter.Permits));
                }
            }
            catch (Exception ex)
            {
                // Nobody waits forever, whatever went wrong.
                foreach (var waiter in batch)
                {
                    waiter.Lease.TrySetException(ex);
                }
            }
        }
    }

    /// <summary>Spends <paramref name="permits"/> of the credit if it holds them and has not expired (under <see cref="gate"/>).</summary>
    private bool TrySpendCredit(int permits)
    {
        if (credit > 0 && time.GetTimestamp() > creditUntil)
        {
            credit = 0;
        }

        if (credit < permits)
        {
            return false;
        }

        credit -= permits;
        return true;
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

    private sealed record Waiter(int Permits)
    {
        public TaskCompletionSource<RateLimitLease> Lease { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
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
