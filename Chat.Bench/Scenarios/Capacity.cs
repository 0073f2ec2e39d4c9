using System.Diagnostics;
using HdrHistogram;

namespace Chat.Bench.Scenarios;

public static class Capacity
{
    /// <summary>S1: server memory as authenticated idle connections are added, and the bytes each one costs.</summary>
    public static async Task<Dictionary<string, object?>> IdleAsync(Bench bench, int[] levels)
    {
        var connections = new List<Protocol.IBenchConnection>();
        using var stop = new CancellationTokenSource();
        var points = new List<(int Connections, long Rss)>();
        var keepAlive = Task.CompletedTask;
        foreach (var level in levels.Order())
        {
            if (level > connections.Count)
            {
                connections.AddRange(await bench.ConnectManyAsync(connections.Count, level - connections.Count, concurrency: 64));
            }

            if (keepAlive.IsCompleted)
            {
                keepAlive = Bench.KeepAliveAsync(connections, stop.Token);
            }

            await Task.Delay(TimeSpan.FromSeconds(3)); // let the server settle
            points.Add((connections.Count, bench.ServerRssBytes()));
            Console.Error.WriteLine($"  {connections.Count} connections: RSS {points[^1].Rss / 1024 / 1024} MiB");
        }

        // Least-squares slope of RSS over connections: the marginal bytes per connection.
        var meanX = points.Average(p => (double)p.Connections);
        var meanY = points.Average(p => (double)p.Rss);
        var slope = points.Sum(p => (p.Connections - meanX) * (p.Rss - meanY)) / points.Sum(p => Math.Pow(p.Connections - meanX, 2));
        var held = connections.Count;
        stop.Cancel();
        await keepAlive;
        await Bench.DisposeAllAsync(connections);
        return new Dictionary<string, object?>
        {
            ["connectionsHeld"] = held,
            ["rssMiB"] = points.ToDictionary(p => p.Connections.ToString(System.Globalization.CultureInfo.InvariantCulture), p => Math.Round(p.Rss / 1048576.0, 1)),
            ["bytesPerConnection"] = Math.Round(slope),
        };
    }

    /// <summary>S4: authenticated connects per second (WebSocket upgrade plus SignalR handshake) and their p99.</summary>
    public static async Task<Dictionary<string, object?>> ConnectRateAsync(Bench bench, int count, int concurrency)
    {
        var histogram = new LongHistogram(TimeStamp.Seconds(60), 3);
        var gate = new Lock();
        var connections = new Protocol.IBenchConnection[count];
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, ct) =>
        {
            var begin = Stopwatch.GetTimestamp();
            connections[i] = await bench.ConnectAsync(i, ct);
            var micros = (long)Stopwatch.GetElapsedTime(begin).TotalMicroseconds;
            lock (gate)
            {
                histogram.RecordValue(Math.Max(1, micros));
            }
        });
        var seconds = Bench.Seconds(started);
        await Bench.DisposeAllAsync(connections);
        return new Dictionary<string, object?>
        {
            ["connections"] = count,
            ["concurrency"] = concurrency,
            ["connectsPerSecond"] = Math.Round(count / seconds),
            ["p50Ms"] = Math.Round(histogram.GetValueAtPercentile(50) / 1000.0, 2),
            ["p99Ms"] = Math.Round(histogram.GetValueAtPercentile(99) / 1000.0, 2),
        };
    }
}
