using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace Chat.Bench.Protocol;

/// <summary>
/// Chat's hub spoken directly in SignalR's JSON protocol over one WebSocket: no negotiation, the access token in the
/// query string, the handshake, then SendRaw invocations, their completions and ReceiveMessage calls.
/// </summary>
public sealed class HubJsonConnection : FramedSocket, IBenchConnection
{
    private const byte RecordSeparator = 0x1E;
    private static readonly byte[] Handshake = Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e");
    private static readonly byte[] Ping = Encoding.UTF8.GetBytes("{\"type\":6}\u001e");

    private readonly ConcurrentDictionary<long, TaskCompletionSource> pending = new();
    private long nextInvocation;

    public Action<string>? Received { get; set; }

    /// <summary>Called with the target of every other invocation from the server (UserOnline, UserOffline, ...).</summary>
    public Action<string>? Invoked { get; set; }

    /// <summary>Connects and shakes hands; <paramref name="invoked"/> is <see cref="Invoked"/> before any message can arrive.</summary>
    public static async Task<HubJsonConnection> ConnectAsync(
        Uri server, string accessToken, CancellationToken cancellationToken, Action<string>? invoked = null)
    {
        var connection = new HubJsonConnection { Invoked = invoked };
        var scheme = server.Scheme == "https" ? "wss" : "ws";
        await connection.OpenAsync(new Uri($"{scheme}://{server.Authority}/hubs/chat?access_token={Uri.EscapeDataString(accessToken)}"), cancellationToken);
        await connection.WriteAsync(Handshake);
        var answer = await connection.ReadMessageAsync(cancellationToken);
        if (!answer.AsSpan().StartsWith("{}\u001e"u8))
        {
            throw new InvalidOperationException($"Handshake refused: {Encoding.UTF8.GetString(answer)}");
        }

        // A busy server may send the first invocations in the handshake's frame.
        connection.OnMessage(answer.AsSpan(3));
        connection.StartReceiving();
        return connection;
    }

    public Task SendAsync(string receiverId, string text)
    {
        var id = Interlocked.Increment(ref nextInvocation);
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[id] = completion;

        var buffer = new ArrayBufferWriter<byte>(128 + text.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("type", 1);
            writer.WriteString("invocationId", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteString("target", "SendRaw");
            writer.WriteStartArray("arguments");
            writer.WriteStringValue(string.Concat(receiverId, ":", text));
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        buffer.Write([RecordSeparator]);
        return SendThenAwaitAsync(buffer.WrittenMemory, completion.Task);
    }

    private async Task SendThenAwaitAsync(ReadOnlyMemory<byte> message, Task completion)
    {
        await WriteAsync(message);
        await completion;
    }

    public Task PingAsync() => WriteAsync(Ping);

    protected override void OnMessage(ReadOnlySpan<byte> message)
    {
        while (message.Length > 0)
        {
            var end = message.IndexOf(RecordSeparator);
            if (end < 0)
            {
                return;
            }

            OnRecord(message[..end]);
            message = message[(end + 1)..];
        }
    }

    private void OnRecord(ReadOnlySpan<byte> record)
    {
        var reader = new Utf8JsonReader(record);
        int type = 0;
        string? invocationId = null, error = null, target = null, text = null;
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("invocationId"u8))
            {
                reader.Read();
                invocationId = reader.GetString();
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                error = reader.GetString();
            }
            else if (reader.ValueTextEquals("target"u8))
            {
                reader.Read();
                target = reader.GetString();
            }
            else if (reader.ValueTextEquals("arguments"u8))
            {
                // [ { ..., "text": "...", ... } ]
                reader.Read();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("text"u8))
                    {
                        reader.Read();
                        text = reader.GetString();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        switch (type)
        {
            case 1 when target == "ReceiveMessage" && text is not null:
                Received?.Invoke(text);
                break;
            case 1 when target is not null:
                Invoked?.Invoke(target);
                break;
            case 3 when invocationId is not null && pending.TryRemove(long.Parse(invocationId, System.Globalization.CultureInfo.InvariantCulture), out var completion):
                if (error is null)
                {
                    completion.TrySetResult();
                }
                else
                {
                    completion.TrySetException(new InvalidOperationException(error));
                }

                break;
            case 7:
                foreach (var waiting in pending.Values)
                {
                    waiting.TrySetException(new InvalidOperationException($"Closed by the server: {error}"));
                }

                break;
        }
    }
}
