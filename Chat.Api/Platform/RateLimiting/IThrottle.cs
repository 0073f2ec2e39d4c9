using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Chat.Api.Platform.RateLimiting;

/// <summary>
/// Lets one event per key through per period and drops the rest (they are not refused: there is nothing to retry).
/// With Redis the period holds across instances; a local check first spares Redis the calls this instance drops.
/// </summary>
public interface IThrottle
{
    ValueTask<bool> TryPassAsync(string name, string key, TimeSpan period);
}

internal sealed class InProcessThrottle(TimeProvider time) : IThrottle
{
    private const int SweepAt = 10_000;

    private readonly ConcurrentDictionary<(string, string), long> passed = new();

    public ValueTask<bool> TryPassAsync(string name, string key, TimeSpan period) => ValueTask.FromResult(TryPass(name, key, period));

    public bool TryPass(string name, string key, TimeSpan period)
    {
        var now = time.GetTimestamp();
        if (passed.Count > SweepAt)
        {
            foreach (var (entry, at) in passed)
            {
                if (time.GetElapsedTime(at, now) >= period)
                {
                    passed.TryRemove(entry, out _);
                }
            }
        }

        while (true)
        {
            if (!passed.TryGetValue((name, key), out var last))
            {
                if (passed.TryAdd((name, key), now))
                {
                    return true;
                }
            }
            else if (time.GetElapsedTime(last, now) < period)
            {
                return false;
            }
            else if (passed.TryUpdate((name, key), now, last))
            {
                return true;
            }
        }
    }
}

internal sealed class RedisThrottle(IConnectionMultiplexer redis, TimeProvider time) : IThrottle
{
    private readonly InProcessThrottle local = new(time);

    public async ValueTask<bool> TryPassAsync(string name, string key, TimeSpan period)
    {
        if (!local.TryPass(name, key, period))
        {
            return false;
        }

        try
        {
            return await redis.GetDatabase().StringSetAsync(RedisKeys.Throttle(name, key), 1, period, When.NotExists);
        }
        catch (RedisException)
        {
            return true; // this instance's own throttle still holds
        }
    }
}
