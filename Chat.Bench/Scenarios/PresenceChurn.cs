using System.Diagnostics;
using Chat.Bench.Protocol;

namespace Chat.Bench.Scenarios;

/// <summary>
/// S6: presence fan-out. <c>users</c> connected users (seeded from <see cref="FirstUser"/> with
/// <c>chat-bench seed --contacts</c>), each the contact of the <c>contacts</c> users nearest to it on a ring. In waves,
/// every (contacts/2 + 1)-th user (a different offset each wave, so no two of them are contacts) disconnects, 50 at a
/// time as in S4; once each of their contacts has had their <c>UserOffline</c> they reconnect, and the wave ends
/// when each contact has had their <c>UserOnline</c>. The server runs with <c>Presence__GraceSeconds=0</c>: the grace
/// period is a wait by design, not a cost. Reports presence events delivered per second over the measured waves, the
/// server's CPU per event, and the events that never came (within 30 s of their wave).
/// </summary>
public static class PresenceChurn
{
    /// <summary>Apart from the users S1–S5 connect, so their contacts are S6's alone.</summary>
    public const int FirstUser = 1_000_000;

    private const int Concurrency = 50;
    private static readonly TimeSpan EventDeadline = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PingEvery = TimeSpan.FromSeconds(10);

    public static async Task<Dictionary<string, object?>> RunAsync(
        Bench bench, int first, int users, int contacts, TimeSpan warmup, TimeSpan duration)
    {
        if (bench.Target != Target.Chat)
        {
            throw new ArgumentException("s6 measures Chat's presence events: --target chat");
        }

        long online = 0, offline = 0;
        void Count(string target)
        {
            if (target == "UserOnline")
            {
                Interlocked.Increment(ref online);
            }
            else if (target == "UserOffline")
            {
                Interlocked.Increment(ref offline);
            }
        }

        var connections = new HubJsonConnection[users];
        async ValueTask ConnectAsync(int i, CancellationToken cancellationToken)
        {
            connections[i] = await bench.ConnectHubAsync(first + i, Count, cancellationToken);
        }

        // Each contact pair announces its later arrival to the earlier one: users × contacts / 2 events (a pair that
        // connects at the same moment may announce each to the other).
        await Parallel.ForEachAsync(Enumerable.Range(0, users), new ParallelOptions { MaxDegreeOfParallelism = 64 }, ConnectAsync);
        var missing = await WaitForAsync(() => Interlocked.Read(ref online), (long)users * contacts / 2);
        Console.Error.WriteLine($"  {users} users online, {Interlocked.Read(ref online)} UserOnline events ({missing} missing)");

        var stride = contacts / 2 + 1;
        var wave = 0;
        long churnedInWaves = 0;
        var lastPing = Stopwatch.GetTimestamp();
        async Task<long> WaveAsync()
        {
            // Users i ≡ wave (mod stride), short of the ring's end so that the last and the first are no contacts either.
            var churned = Enumerable.Range(0, users - stride).Where(i => i % stride == wave % stride).ToArray();
            wave++;
            churnedInWaves += churned.Length;
            var expected = (long)churned.Length * contacts;
            var offline0 = Interlocked.Read(ref offline);
            await Parallel.ForEachAsync(churned, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, _) => await connections[i].DisposeAsync());
            var lost = await WaitForAsync(() => Interlocked.Read(ref offline) - offline0, expected);
            var online0 = Interlocked.Read(ref online);
            await Parallel.ForEachAsync(churned, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, ConnectAsync);
            lost += await WaitForAsync(() => Interlocked.Read(ref online) - online0, expected);

            // SignalR drops a client silent for 30 s.
            if (Stopwatch.GetElapsedTime(lastPing) > PingEvery)
            {
                foreach (var connection in connections)
                {
                    await connection.PingAsync();
                }

                lastPing = Stopwatch.GetTimestamp();
            }

            return lost;
        }

        var warming = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(warming) < warmup)
        {
            await WaveAsync();
        }

        var (events0, cpu0, backingCpu0, started) =
            (Interlocked.Read(ref online) + Interlocked.Read(ref offline), bench.ServerCpu(), bench.BackingCpu(), Stopwatch.GetTimestamp());
        long lostEvents = 0;
        var waves = 0;
        churnedInWaves = 0;
        do
        {
            lostEvents += await WaveAsync();
            waves++;
        }
        while (Stopwatch.GetElapsedTime(started) < duration);

        var (events1, cpu1, backingCpu1, seconds) =
            (Interlocked.Read(ref online) + Interlocked.Read(ref offline), bench.ServerCpu(), bench.BackingCpu(), Bench.Seconds(started));
        await Bench.DisposeAllAsync(connections);

        var events = events1 - events0;
        double PerEvent(TimeSpan cpu) => events == 0 ? 0 : Math.Round(cpu.TotalMicroseconds / events, 2);
        var result = new Dictionary<string, object?>
        {
            ["users"] = users,
            ["contacts"] = contacts,
            ["waves"] = waves,
            ["churnedPerWave"] = churnedInWaves / waves,
            ["eventsPerSecond"] = Math.Round(events / seconds),
            ["serverCpuMicrosecondsPerEvent"] = PerEvent(cpu1 - cpu0),
            ["missingEvents"] = lostEvents,
        };
        if (bench.HasBackingPids)
        {
            result["backingCpuMicrosecondsPerEvent"] = PerEvent(backingCpu1 - backingCpu0);
        }

        return result;
    }

    /// <summary>Waits until <paramref name="count"/> reaches <paramref name="expected"/>; returns the shortfall at the deadline.</summary>
    private static async Task<long> WaitForAsync(Func<long> count, long expected)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(EventDeadline.TotalSeconds * Stopwatch.Frequency);
        while (count() < expected && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(5);
        }

        return Math.Max(0, expected - count());
    }
}
