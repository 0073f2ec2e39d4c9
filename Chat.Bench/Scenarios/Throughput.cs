using System.Diagnostics;
using Chat.Bench.Protocol;

namespace Chat.Bench.Scenarios;

/// <summary>
/// S2: P sender→receiver pairs in a closed loop, each sender keeping a window of sends in flight, beside I idle
/// connections. Reports delivered messages per second and server CPU-microseconds per delivered message. With
/// <c>receiverBench</c> the receivers connect to another server (S5: another instance, over the Redis backplane).
/// </summary>
public static class Throughput
{
    public const string Text = "a benchmark message of some 40 bytes..";
    private static readonly TimeSpan IdleSettle = TimeSpan.FromSeconds(15);

    public static async Task<Dictionary<string, object?>> RunAsync(
        Bench bench, Bench receiverBench, int pairs, int idle, int window, TimeSpan warmup, TimeSpan duration)
    {
        var senders = await bench.ConnectManyAsync(0, pairs);
        var receivers = await receiverBench.ConnectManyAsync(pairs, pairs);
        var idlers = idle > 0 ? await bench.ConnectManyAsync(2 * pairs, idle) : [];
        using var stop = new CancellationTokenSource();
        var keepAlive = Bench.KeepAliveAsync([.. senders, .. receivers, .. idlers], stop.Token);
        if (idle > 0)
        {
            // Opening thousands of connections leaves the server work that is not their steady cost (a full
            // collection of the heap they grew): let it settle, as S1 does, so the run measures idle connections.
            await Task.Delay(IdleSettle);
        }

        long delivered = 0, failed = 0;
        foreach (var receiver in receivers)
        {
            receiver.Received = _ => Interlocked.Increment(ref delivered);
        }

        var running = true;
        async Task SendLoopAsync(IBenchConnection sender, string receiverId)
        {
            while (Volatile.Read(ref running))
            {
                try
                {
                    await sender.SendAsync(receiverId, Text);
                }
                catch (InvalidOperationException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }

        var loops = Enumerable.Range(0, pairs)
            .SelectMany(i => Enumerable.Range(0, window).Select(_ => Task.Run(() => SendLoopAsync(senders[i], BenchUsers.Id(pairs + i)))))
            .ToList();

        await Task.Delay(warmup);
        var (delivered0, cpu0, backingCpu0, clientCpu0, started) =
            (Interlocked.Read(ref delivered), bench.ServerCpu(), bench.BackingCpu(), Environment.CpuUsage.TotalTime, Stopwatch.GetTimestamp());
        await Task.Delay(duration);
        var (delivered1, cpu1, backingCpu1, clientCpu, seconds) =
            (Interlocked.Read(ref delivered), bench.ServerCpu(), bench.BackingCpu(), Bench.ClientCpuPercent(clientCpu0, started), Bench.Seconds(started));

        Volatile.Write(ref running, false);
        await Task.WhenAny(Task.WhenAll(loops), Task.Delay(TimeSpan.FromSeconds(10)));
        stop.Cancel();
        await keepAlive;
        await Bench.DisposeAllAsync([.. senders, .. receivers, .. idlers]);

        var messages = delivered1 - delivered0;
        double PerMessage(TimeSpan cpu) => messages == 0 ? 0 : Math.Round(cpu.TotalMicroseconds / messages, 2);
        var result = new Dictionary<string, object?>
        {
            ["pairs"] = pairs,
            ["idle"] = idle,
            ["window"] = window,
            ["placement"] = ReferenceEquals(bench, receiverBench) ? "same" : "cross",
            ["messagesPerSecond"] = Math.Round(messages / seconds),
            ["serverCpuMicrosecondsPerMessage"] = PerMessage(cpu1 - cpu0),
            ["clientCpuPercent"] = clientCpu,
            ["failedSends"] = failed,
        };
        if (bench.HasBackingPids)
        {
            // Redis's and MariaDB's CPU per message (--backing-pids), which the server's figure does not include.
            result["backingCpuMicrosecondsPerMessage"] = PerMessage(backingCpu1 - backingCpu0);
        }

        return result;
    }
}
