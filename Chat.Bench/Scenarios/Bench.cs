using System.Diagnostics;
using System.Globalization;
using Chat.Bench.Protocol;

namespace Chat.Bench.Scenarios;

public enum Target
{
    /// <summary>Chat's hub, raw SignalR JSON protocol.</summary>
    Chat,

    /// <summary>Chat's hub through the official SignalR .NET client.</summary>
    Sdk,

    /// <summary>The bare Kestrel relay.</summary>
    Baseline,

    /// <summary>The stock SignalR hub (<c>chat-bench stock</c>): Chat's wire protocol, so driven exactly as Chat.</summary>
    Stock,
}

/// <summary>
/// What every scenario needs: how to connect user N, and how to read the server process (and the processes it
/// depends on, such as Redis and MariaDB: <paramref name="backingPids"/>).
/// </summary>
public sealed class Bench(Target target, Uri server, string? signingKey, int? serverPid, IReadOnlyList<int>? backingPids = null)
{
    public Target Target => target;

    /// <summary>Whether <see cref="BackingCpu"/> reads anything.</summary>
    public bool HasBackingPids => backingPids is { Count: > 0 };

    public async Task<IBenchConnection> ConnectAsync(int user, CancellationToken cancellationToken = default) => target switch
    {
        Target.Baseline => await RelayConnection.ConnectAsync(server, BenchUsers.Id(user), cancellationToken),
        Target.Sdk => await SdkConnection.ConnectAsync(server, Token(user), cancellationToken),
        _ => await HubJsonConnection.ConnectAsync(server, Token(user), cancellationToken),
    };

    /// <summary>A connection to Chat's hub (or the stock one) that reports every invocation but ReceiveMessage from the start.</summary>
    public Task<HubJsonConnection> ConnectHubAsync(int user, Action<string> invoked, CancellationToken cancellationToken = default) =>
        target is Target.Chat or Target.Stock
            ? HubJsonConnection.ConnectAsync(server, Token(user), cancellationToken, invoked)
            : throw new ArgumentException($"{target} has no hub to report invocations");

    private string Token(int user) =>
        BenchUsers.AccessToken(signingKey ?? throw new ArgumentException("--signing-key is required for Chat and the stock hub"), user);

    /// <summary>Connects users [first, first + count) with bounded concurrency.</summary>
    public async Task<IBenchConnection[]> ConnectManyAsync(int first, int count, int concurrency = 32)
    {
        var connections = new IBenchConnection[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency },
            async (i, ct) => connections[i] = await ConnectAsync(first + i, ct));
        return connections;
    }

    /// <summary>The server's CPU time so far (user + system), from /proc.</summary>
    public TimeSpan ServerCpu() => serverPid is { } pid ? ProcessCpu(pid) : TimeSpan.Zero;

    /// <summary>The CPU time so far of the backing processes (Redis, MariaDB), summed.</summary>
    public TimeSpan BackingCpu() => (backingPids ?? []).Aggregate(TimeSpan.Zero, (total, pid) => total + ProcessCpu(pid));

    private static TimeSpan ProcessCpu(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
    }

    /// <summary>
    /// The share of one core this load generator used since <paramref name="started"/>: near 100 % it, not the server,
    /// sets the pace, and the figures say more about the client than about the server.
    /// </summary>
    public static double ClientCpuPercent(TimeSpan cpuAtStart, long started) =>
        Math.Round((Environment.CpuUsage.TotalTime - cpuAtStart).TotalSeconds / Seconds(started) * 100, 1);

    /// <summary>The server's resident memory, from /proc.</summary>
    public long ServerRssBytes()
    {
        if (serverPid is not { } pid)
        {
            return 0;
        }

        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>Keeps idle connections within SignalR's client timeout until cancelled.</summary>
    public static async Task KeepAliveAsync(IReadOnlyList<IBenchConnection> connections, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken);
                foreach (var connection in connections)
                {
                    await connection.PingAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public static async Task DisposeAllAsync(IEnumerable<IBenchConnection> connections)
    {
        await Parallel.ForEachAsync(connections, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (c, _) => await c.DisposeAsync());
    }

    public static double Seconds(long fromTimestamp) => Stopwatch.GetElapsedTime(fromTimestamp).TotalSeconds;
}
