using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;

namespace Chat.Bench.Baseline;

/// <summary>
/// The most a .NET server can do here for the same job: bare Kestrel WebSockets, a dictionary from user id to socket,
/// and for each <c>receiverId:text</c> frame one frame to the receiver and an "ack" to the sender. No auth, no
/// protocol, no validation: the ceiling Chat is compared against.
/// </summary>
public static class RelayServer
{
    private static readonly byte[] Ack = "ack"u8.ToArray();

    public static async Task RunAsync(string urls)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var users = new ConcurrentDictionary<string, Peer>(StringComparer.Ordinal);
        app.UseWebSockets();
        app.Map("/ws", async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest || context.Request.Query["user"].ToString() is not { Length: > 0 } user)
            {
                context.Response.StatusCode = 400;
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var peer = new Peer(socket);
            users[user] = peer;
            try
            {
                await RelayAsync(user, peer, users);
            }
            finally
            {
                users.TryRemove(new KeyValuePair<string, Peer>(user, peer));
            }
        });
        await app.RunAsync();
    }

    private static async Task RelayAsync(string user, Peer peer, ConcurrentDictionary<string, Peer> users)
    {
        var prefix = Encoding.UTF8.GetBytes(user + ":");
        while (true)
        {
            // An idle connection holds no buffer: wait with a zero-byte read, rent only once data has arrived.
            var waiting = await peer.Socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
            if (waiting.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                if (!await RelayFrameAsync(buffer, prefix, peer, users))
                {
                    return;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static async Task<bool> RelayFrameAsync(byte[] buffer, byte[] prefix, Peer peer, ConcurrentDictionary<string, Peer> users)
    {
        var count = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await peer.Socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
            count += result.Count;
        }
        while (!result.EndOfMessage && count < buffer.Length);

        if (result.MessageType == WebSocketMessageType.Close)
        {
            return false;
        }

        var frame = buffer.AsMemory(0, count);
        var separator = frame.Span.IndexOf((byte)':');
        if (separator > 0 && users.TryGetValue(Encoding.UTF8.GetString(frame.Span[..separator]), out var receiver))
        {
            var outgoing = new byte[prefix.Length + count - separator - 1];
            prefix.CopyTo(outgoing, 0);
            frame.Span[(separator + 1)..].CopyTo(outgoing.AsSpan(prefix.Length));
            await receiver.SendAsync(outgoing);
        }

        await peer.SendAsync(Ack);
        return true;
    }

    private sealed class Peer(WebSocket socket)
    {
        private readonly SemaphoreSlim writeLock = new(1, 1);

        public WebSocket Socket => socket;

        public async Task SendAsync(ReadOnlyMemory<byte> message)
        {
            await writeLock.WaitAsync();
            try
            {
                await socket.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None);
            }
            catch (WebSocketException)
            {
            }
            finally
            {
                writeLock.Release();
            }
        }
    }
}
