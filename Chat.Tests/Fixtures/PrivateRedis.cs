using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Chat.Tests.Fixtures;

/// <summary>
/// A real redis-server of a test's own, which the test can stop and start again on the same port (losing its data,
/// as a restarted Redis without persistence does) without disturbing the Redis every other test shares.
/// </summary>
public sealed class PrivateRedis : IAsyncDisposable
{
    private readonly string binary;
    private Process? process;

    private PrivateRedis(string binary, int port)
    {
        this.binary = binary;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<PrivateRedis> StartNewAsync()
    {
        var binary = Environment.GetEnvironmentVariable("CHAT_TEST_REDIS_SERVER") is { Length: > 0 } configured
            ? configured
            : new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
              ?? throw new InvalidOperationException(
                  "The Redis outage tests start and stop a redis-server of their own: install redis-server " +
                  "(./test.sh does) or set CHAT_TEST_REDIS_SERVER to its path.");
        var redis = new PrivateRedis(binary, FreePort());
        await redis.StartAsync();
        return redis;
    }

    public async Task StartAsync()
    {
        process = Process.Start(new ProcessStartInfo(binary)
        {
            ArgumentList = { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync($"{ConnectionString},connectTimeout=500");
                return connection.IsConnected;
            }
            catch (RedisConnectionException)
            {
                return false;
            }
        }, because: $"redis-server did not start on port {Port}");
    }

    public async Task StopAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
