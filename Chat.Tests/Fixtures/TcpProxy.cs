using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Chat.Tests.Fixtures;

/// <summary>
/// A loopback TCP forwarder in front of a real server, so a test can make that server stop answering for one app
/// (every open connection cut, new ones refused) without stopping it for the other tests.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly IPEndPoint target;
    private readonly List<Socket> open = [];
    private TcpListener listener;
    private CancellationTokenSource running = new();

    public TcpProxy(string host, int port)
    {
        target = new IPEndPoint(Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork), port);
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = AcceptAsync(listener, running.Token);
    }

    public int Port { get; }

    public static TcpProxy For(EndPoint endPoint) => endPoint switch
    {
        DnsEndPoint dns => new TcpProxy(dns.Host, dns.Port),
        IPEndPoint ip => new TcpProxy(ip.Address.ToString(), ip.Port),
        _ => throw new ArgumentException($"Cannot proxy {endPoint}.", nameof(endPoint)),
    };

    /// <summary>A proxy in front of the Redis every test shares (<see cref="TestServers"/>).</summary>
    public static async Task<TcpProxy> ForSharedRedisAsync() =>
        For(ConfigurationOptions.Parse((await TestServers.GetAsync()).Redis).EndPoints.Single());

    /// <summary>Cuts every connection and refuses new ones.</summary>
    public void Stop()
    {
        running.Cancel();
        listener.Stop();
        lock (open)
        {
            foreach (var socket in open)
            {
                socket.Dispose();
            }

            open.Clear();
        }
    }

    /// <summary>Accepts connections again, on the same port.</summary>
    public void Resume()
    {
        running = new CancellationTokenSource();
        listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Start();
        _ = AcceptAsync(listener, running.Token);
    }

    private async Task AcceptAsync(TcpListener accepting, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await accepting.AcceptSocketAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ForwardAsync(client, cancellationToken);
        }
    }

    private async Task ForwardAsync(Socket client, CancellationToken cancellationToken)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        lock (open)
        {
            open.Add(client);
            open.Add(server);
        }

        try
        {
            await server.ConnectAsync(target, cancellationToken);
            await Task.WhenAny(PumpAsync(client, server, cancellationToken), PumpAsync(server, client, cancellationToken));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            client.Dispose();
            server.Dispose();
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, cancellationToken)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }
}
