using System.Collections.Concurrent;
using System.Text;

namespace Chat.Bench.Protocol;

/// <summary>The baseline relay's protocol: text frames <c>receiverId:text</c> out, <c>senderId:text</c> in, and "ack".</summary>
public sealed class RelayConnection : FramedSocket, IBenchConnection
{
    private readonly ConcurrentQueue<TaskCompletionSource> awaitingAck = new();

    public Action<string>? Received { get; set; }

    public static async Task<RelayConnection> ConnectAsync(Uri server, string userId, CancellationToken cancellationToken)
    {
        var connection = new RelayConnection();
        await connection.OpenAsync(new Uri($"ws://{server.Authority}/ws?user={Uri.EscapeDataString(userId)}"), cancellationToken);
        connection.StartReceiving();
        return connection;
    }

    public async Task SendAsync(string receiverId, string text)
    {
        var ack = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        awaitingAck.Enqueue(ack);
        await WriteAsync(Encoding.UTF8.GetBytes(string.Concat(receiverId, ":", text)));
        await ack.Task;
    }

    // The relay answers in order on one socket, so acks complete sends first in, first out.
    public Task PingAsync() => Task.CompletedTask;

    protected override void OnMessage(ReadOnlySpan<byte> message)
    {
        if (message.SequenceEqual("ack"u8))
        {
            if (awaitingAck.TryDequeue(out var ack))
            {
                ack.TrySetResult();
            }

            return;
        }

        var separator = message.IndexOf((byte)':');
        Received?.Invoke(Encoding.UTF8.GetString(message[(separator + 1)..]));
    }
}
