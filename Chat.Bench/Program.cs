using System.Globalization;
using System.Text.Json;
using Chat.Bench;
using Chat.Bench.Baseline;
using Chat.Bench.Scenarios;

// chat-bench baseline --urls http://127.0.0.1:5200                  the bare Kestrel WebSocket relay
// chat-bench stock --urls URL [--redis CONFIG] [--signing-key K]    the stock SignalR hub (key: else Jwt__SigningKey)
// chat-bench seed --users 20000 (--content-root DIR | --mysql CONNECTION) [--first N] [--contacts 20 (ring neighbours)]
// chat-bench run --target chat|stock|sdk|baseline --url URL --scenario s1|s2|s3|s4|s5|s6 [--signing-key K] [--server-pid PID]
//                [--backing-pids PID,PID (Redis, MariaDB: their CPU per message in s2)] [--comparison NAME (recorded)]
//                [--receiver-url URL (s5: receivers on another instance)] [...]
var options = Options.Parse(args.Skip(1));
switch (args.FirstOrDefault())
{
    case "baseline":
        await RelayServer.RunAsync(options.Get("urls", "http://127.0.0.1:5200"));
        return 0;

    case "stock":
        await StockHubServer.RunAsync(
            options.Get("urls", "http://127.0.0.1:5300"),
            options.Find("signing-key") ?? Environment.GetEnvironmentVariable("Jwt__SigningKey")
                ?? throw new ArgumentException("--signing-key or Jwt__SigningKey is required"),
            options.Find("redis"));
        return 0;

    case "seed":
        await BenchUsers.SeedAsync(
            options.Int("users", 20_000), options.Find("mysql"), options.Find("content-root"), options.Int("first", 0), options.Int("contacts", 0));
        return 0;

    case "run":
        var bench = new Bench(
            Enum.Parse<Target>(options.Get("target", "chat"), ignoreCase: true),
            new Uri(options.Get("url", "http://127.0.0.1:5100")),
            options.Find("signing-key"),
            options.Find("server-pid") is { } pid ? int.Parse(pid, CultureInfo.InvariantCulture) : null,
            options.Find("backing-pids") is { } backing
                ? backing.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray()
                : null);
        var receiverBench = options.Find("receiver-url") is { } receiverUrl
            ? new Bench(bench.Target, new Uri(receiverUrl), options.Find("signing-key"), null)
            : bench;
        var warmup = TimeSpan.FromSeconds(options.Int("warmup", 3));
        var duration = TimeSpan.FromSeconds(options.Int("duration", 10));
        var scenario = options.Get("scenario", "s2");
        var result = scenario switch
        {
            "s1" => await Capacity.IdleAsync(bench, options.Get("levels", "0,2000,5000,10000,15000").Split(',').Select(int.Parse).ToArray()),
            "s2" or "s5" => await Throughput.RunAsync(
                bench, receiverBench, options.Int("pairs", 100), options.Int("idle", 0), options.Int("window", 10), warmup, duration),
            "s3" => await Latency.RunAsync(bench, options.Int("pairs", 100), options.Int("rate", 10_000), warmup, duration),
            "s4" => await Capacity.ConnectRateAsync(bench, options.Int("connections", 2000), options.Int("concurrency", 50)),
            "s6" => await PresenceChurn.RunAsync(
                bench, options.Int("first", PresenceChurn.FirstUser), options.Int("users", 5000), options.Int("contacts", 20), warmup, duration),
            _ => throw new ArgumentException($"Unknown scenario {scenario}"),
        };
        var head = new Dictionary<string, object?> { ["scenario"] = scenario, ["target"] = bench.Target.ToString().ToLowerInvariant() };
        if (options.Find("comparison") is { } comparison)
        {
            // Which comparison the run belongs to (scripts/bench.sh: relay, stock or stock-redis).
            head["comparison"] = comparison;
        }

        result = head.Concat(result).ToDictionary();
        Console.WriteLine(JsonSerializer.Serialize(result));
        return 0;

    default:
        Console.Error.WriteLine("usage: chat-bench baseline|stock|seed|run [--option value ...] (see scripts/bench.sh)");
        return 2;
}
