using System.Collections.Concurrent;

namespace Chat.Api.Platform.RateLimiting;

/// <summary>
/// What <see cref="IRateLimitPartitions.TakeReturnableAsync"/> answered: a permit, which counts against its window
/// until it is given back, or, when the window has none left, how long until it ends.
/// </summary>
public sealed class WindowPermit
{
    private readonly Func<ValueTask>? giveBack;
    private int returned;

    private WindowPermit(Func<ValueTask>? giveBack, TimeSpan retryAfter)
    {
        this.giveBack = giveBack;
        RetryAfter = retryAfter;
    }

    internal static WindowPermit Taken(Func<ValueTask> giveBack) => new(giveBack, TimeSpan.Zero);

    internal static WindowPermit Refused(TimeSpan retryAfter) => new(null, retryAfter);

    public bool IsAcquired => giveBack is not null;

    /// <summary>When refused: how long until the window ends and its budget is whole again.</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>
    /// Gives the permit back to the window it was taken from; once only. A window that has ended meanwhile is not
    /// credited, nor is the window after it: a returned permit never adds budget beyond the limit.
    /// </summary>
    public ValueTask ReturnAsync() =>
        giveBack is not null && Interlocked.Exchange(ref returned, 1) == 0 ? giveBack() : ValueTask.CompletedTask;
}

/// <summary>
/// Returnable fixed windows kept in this process: single-instance mode, and Redis mode's fallback while Redis is away.
/// Windows that have ended are swept now and then, so that partitions never seen again do not pile up.
/// </summary>
internal sealed class LocalReturnableWindows(TimeProvider time)
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Window> windows = new(StringComparer.Ordinal);
    private long nextSweep = time.GetTimestamp() + Ticks(time, SweepInterval);

    public WindowPermit Take(string key, int permitLimit, TimeSpan length)
    {
        var now = time.GetTimestamp();
        SweepIfDue(now);
        while (true)
        {
            var window = windows.GetOrAdd(key, static (_, end) => new Window(end), now + Ticks(time, length));
            lock (window)
            {
                if (window.Removed)
                {
                    continue; // swept between the lookup and the lock: take from its successor
                }

                if (window.EndsAt <= now)
                {
                    window.Restart(now + Ticks(time, length));
                }

                if (window.Count >= permitLimit)
                {
                    return WindowPermit.Refused(time.GetElapsedTime(now, window.EndsAt));
                }

                window.Count++;
                var generation = window.Generation;
                return WindowPermit.Taken(() =>
                {
                    window.GiveBack(generation);
                    return ValueTask.CompletedTask;
                });
            }
        }
    }

    private void SweepIfDue(long now)
    {
        var due = Volatile.Read(ref nextSweep);
        if (now < due || Interlocked.CompareExchange(ref nextSweep, now + Ticks(time, SweepInterval), due) != due)
        {
            return;
        }

        foreach (var (key, window) in windows)
        {
            lock (window)
            {
                if (window.EndsAt <= now)
                {
                    window.Removed = true;
                    windows.TryRemove(KeyValuePair.Create(key, window));
                }
            }
        }
    }

    private static long Ticks(TimeProvider time, TimeSpan span) => (long)(span.TotalSeconds * time.TimestampFrequency);

    /// <summary>One partition's current window; guarded by locking it.</summary>
    private sealed class Window(long endsAt)
    {
        public int Count;
        public long EndsAt = endsAt;
        public int Generation;
        public bool Removed;

        public void Restart(long endsAt)
        {
            Count = 0;
            EndsAt = endsAt;
            Generation++;
        }

        public void GiveBack(int generation)
        {
            lock (this)
            {
                if (generation == Generation && !Removed && Count > 0)
                {
                    Count--;
                }
            }
        }
    }
}
