using System.Diagnostics;
using System.Globalization;
using HdrHistogram;

namespace Chat.Bench.Scenarios;

/// <summary>
/// S3: an open loop at a fixed total rate. Each message carries its intended send time, and latency is measured from
/// that time to delivery, so a stalled server is charged for every message it delayed (no coordinated omission).
/// An overloaded target is a result, not an error: what was not delivered by the end of the drain is reported as
/// <c>undelivered</c> (the backlog), the percentiles are those of what was delivered, and null when nothing was.
/// </summary>
public static class Latency
{
    /// <summary>
    /// The histogram's range, in microseconds: an hour, far beyond any run. A latency above it (which would take a
    /// run longer than an hour) is recorded as the range's top and counted in <c>beyondRange</c>.
    /// </summary>
    public const long HighestTrackableMicros = 3_600_000_000;

    /// <summary>How long the last messages are given to arrive once the sending has stopped.</summary>
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(2);

    public static async Task<Dictionary<string, object?>> RunAsync(Bench bench, int pairs, double rate, TimeSpan warmup, TimeSpan duration)
    {
        var senders = await bench.ConnectManyAsync(0, pairs);
        var receivers = await bench.ConnectManyAsync(pairs, pairs);
        using var stop = new CancellationTokenSource();
        var keepAlive = Bench.KeepAliveAsync([.. senders, .. receivers], stop.Token);

        var histogram = new LongHistogram(HighestTrackableMicros, 3);
        var gate = new Lock();
        var measureFrom = long.MaxValue;
        long failed = 0, beyondRange = 0;
        foreach (var receiver in receivers)
        {
            receiver.Received = text =>
            {
                var now = Stopwatch.GetTimestamp();
                var intended = long.Parse(text, CultureInfo.InvariantCulture);
                if (intended < Volatile.Read(ref measureFrom))
                {
                    return;
                }

                var micros = Math.Max(1, (long)Stopwatch.GetElapsedTime(intended, now).TotalMicroseconds);
                if (micros > HighestTrackableMicros)
                {
                    Interlocked.Increment(ref beyondRange);
                    micros = HighestTrackableMicros;
                }

                lock (gate)
                {
                    histogram.RecordValue(micros);
                }
            };
        }

        var start = Stopwatch.GetTimestamp();
        var interval = Stopwatch.Frequency / rate;
        var end = start + (long)((warmup + duration).TotalSeconds * Stopwatch.Frequency);
        Volatile.Write(ref measureFrom, start + (long)(warmup.TotalSeconds * Stopwatch.Frequency));
        long sent = 0;
        var clientCpu0 = Environment.CpuUsage.TotalTime;
        for (long k = 0; ; k++)
        {
            var due = start + (long)(k * interval);
            if (due >= end)
            {
                break;
            }

            var ahead = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (ahead > TimeSpan.FromMilliseconds(2))
            {
                await Task.Delay(ahead);
            }
            else if (k % 32 == 0)
            {
                // Behind schedule this loop never awaits anything: let the receive loops (which time the deliveries)
                // run, rather than hold a thread-pool thread until the pool injects another one.
                await Task.Yield();
            }

            var pair = (int)(k % pairs);
            var send = senders[pair].SendAsync(BenchUsers.Id(pairs + pair), due.ToString(CultureInfo.InvariantCulture));
            _ = send.ContinueWith(t => Interlocked.Increment(ref failed), TaskContinuationOptions.OnlyOnFaulted);
            if (due >= measureFrom)
            {
                sent++;
            }
        }

        var clientCpu = Bench.ClientCpuPercent(clientCpu0, start);
        await Task.Delay(Drain); // let the last messages arrive
        stop.Cancel();
        await keepAlive;

        // Read under the lock: an overloaded target may still be delivering while the connections close.
        // HdrHistogram throws on an empty histogram ("percentile value not found in range"): nothing delivered within
        // the measured window and the drain means no percentiles (null), not a failed run.
        long delivered;
        double? p50 = null, p99 = null, p999 = null, max = null;
        lock (gate)
        {
            delivered = histogram.TotalCount;
            if (delivered > 0)
            {
                (p50, p99, p999, max) = (Ms(histogram.GetValueAtPercentile(50)), Ms(histogram.GetValueAtPercentile(99)),
                    Ms(histogram.GetValueAtPercentile(99.9)), Ms(histogram.GetMaxValue()));
            }
        }

        await Bench.DisposeAllAsync([.. senders, .. receivers]);
        var failedSends = Interlocked.Read(ref failed);
        return new Dictionary<string, object?>
        {
            ["pairs"] = pairs,
            ["rate"] = Math.Round(rate),
            ["sent"] = sent,
            ["received"] = delivered,
            // Sent in the measured window but not delivered within the drain: the backlog an overloaded target
            // left (failed sends included; see failedSends).
            ["undelivered"] = Math.Max(0, sent - delivered),
            ["failedSends"] = failedSends,
            ["beyondRange"] = Interlocked.Read(ref beyondRange),
            ["drainSeconds"] = Drain.TotalSeconds,
            ["p50Ms"] = p50,
            ["p99Ms"] = p99,
            ["p999Ms"] = p999,
            ["maxMs"] = max,
            ["clientCpuPercent"] = clientCpu,
        };
    }

    private static double Ms(long micros) => Math.Round(micros / 1000.0, 3);
}
