using System.Buffers;
using System.Net.WebSockets;

namespace Chat.Bench.Protocol;

/// <summary>
/// A WebSocket with one writer at a time and a receive loop that hands each text message to a callback. SignalR's
/// JSON protocol may put several records (each ending in 0x1E) in one message; the subclass splits them.
/// </summary>
public abstract class FramedSocket : IAsyncDisposable
{
    private readonly SemaphoreSlim writeLock = new(1, 1);
    private readonly CancellationTokenSource stopping = new();
    private Task receiving = Task.CompletedTask;

    protected ClientWebSocket Socket { get; } = new();

    protected async Task OpenAsync(Uri uri, CancellationToken cancellationToken)
    {
        Socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await Socket.ConnectAsync(uri, cancellationToken);
    }

    protected void StartReceiving() => receiving = Task.Run(ReceiveLoopAsync);

    protected async Task WriteAsync(ReadOnlyMemory<byte> message)
    {
        await writeLock.WaitAsync();
        try
        {
            await Socket.SendAsync(message, WebSocketMessageType.Text, true, stopping.Token);
        }
        finally
        {
            writeLock.Release();
        }
    }

    /// <summary>Reads one whole text message (used before the loop starts, for handshakes).</summary>
    protected async Task<byte[]> ReadMessageAsync(CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        ValueWebSocketReceiveResult result;
        do
        {
            result = await Socket.ReceiveAsync(buffer.GetMemory(4096), cancellationToken);
            buffer.Advance(result.Count);
        }
        while (!result.EndOfMessage);
        return buffer.WrittenSpan.ToArray();
    }

    protected abstract void OnMessage(ReadOnlySpan<byte> message);

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        var pending = new ArrayBufferWriter<byte>(1024);
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var result = await Socket.ReceiveAsync(buffer.AsMemory(), stopping.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (result.EndOfMessage && pending.WrittenCount == 0)
                {
                    OnMessage(buffer.AsSpan(0, result.Count));
                    continue;
                }

                pending.Write(buffer.AsSpan(0, result.Count));
                if (result.EndOfMessage)
                {
                    OnMessage(pending.WrittenSpan);
                    pending.Clear();
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        stopping.Cancel();
        try
        {
            if (Socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }

        await receiving;
        Socket.Dispose();
        GC.SuppressFinalize(this);
    }
}
