using System.Diagnostics;
using System.Globalization;
using HdrHistogram;

namespace Chat.Bench.Scenarios;

/// <summary>
/// S3: an open loop at a fixed total rate. Each message carries its intended send time, and latency is measured from
/// that time to delivery, so a stalled server is charged for every message it delayed (no coordinated omission).
/// </summary>
public static class Latency
{
    public static async Task<Dictionary<string, object>> RunAsync(Bench bench, int pairs, double rate, TimeSpan warmup, TimeSpan duration)
    {
        var senders = await bench.ConnectManyAsync(0, pairs);
        var receivers = await bench.ConnectManyAsync(pairs, pairs);
        using var stop = new CancellationTokenSource();
        var keepAlive = Bench.KeepAliveAsync([.. senders, .. receivers], stop.Token);

        var histogram = new LongHistogram(TimeStamp.Seconds(60), 3);
        var gate = new Lock();
        var measureFrom = long.MaxValue;
        long received = 0, failed = 0;
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

                Interlocked.Increment(ref received);
                var micros = (long)Stopwatch.GetElapsedTime(intended, now).TotalMicroseconds;
                lock (gate)
                {
                    histogram.RecordValue(Math.Max(1, micros));
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
        await Task.Delay(TimeSpan.FromSeconds(2)); // let the last messages arrive
        stop.Cancel();
        await keepAlive;
        await Bench.DisposeAllAsync([.. senders, .. receivers]);

        double Ms(double percentile) => Math.Round(histogram.GetValueAtPercentile(percentile) / 1000.0, 3);
        return new Dictionary<string, object>
        {
            ["pairs"] = pairs,
            ["rate"] = Math.Round(rate),
            ["sent"] = sent,
            ["received"] = Interlocked.Read(ref received),
            ["failedSends"] = failed,
            ["p50Ms"] = Ms(50),
            ["p99Ms"] = Ms(99),
            ["p999Ms"] = Ms(99.9),
            ["maxMs"] = Math.Round(histogram.GetMaxValue() / 1000.0, 3),
            ["clientCpuPercent"] = clientCpu,
        };
    }
}
