using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using StackExchange.Redis;

namespace Chat.Api.Messaging;

/// <summary>
/// Carries <see cref="Delivery"/>s between instances over one Redis channel that every instance subscribes to. One
/// publish at a time per instance: deliveries made while it is in flight go together in the next one, so under load
/// Redis sees one publish per batch instead of one per message, and when idle a delivery leaves at once. An instance
/// skips its own batches (it wrote to its connections when it sent them). A sender's task ends when its batch is
/// published, and fails with the publish (Redis away: the message is stored, and sync brings it).
/// </summary>
/// <remarks>
/// Every instance reads every batch and looks up the targets among its own connections, which is cheap for a few
/// instances. Redis keeps a publisher's order, so the deliveries of one instance arrive in the order sent.
/// </remarks>
internal sealed partial class RedisBackplane
{
    // Batch: origin (16 bytes), then deliveries until the end. Delivery: target (1 byte), names, excepted connections
    // (each a count, then strings), payload (a count, then per protocol its name and bytes). Counts and lengths are
    // 7-bit encoded; strings UTF-8.
    private const int OriginLength = 16;

    /// <summary>Larger batches are published in parts, so one publish never holds Redis up for long.</summary>
    private const int MaxPublishBytes = 64 * 1024;

    private readonly IConnectionMultiplexer redis;
    private readonly RedisChannel channel;
    private readonly IHubProtocol[] protocols;
    private readonly Func<Delivery, Task> deliverHere;
    private readonly ILogger logger;
    private readonly byte[] origin = Guid.NewGuid().ToByteArray();
    private readonly Lazy<Task> subscribed;

    private readonly Lock gate = new();
    private List<Delivery> pending = [];
    private TaskCompletionSource published = NewBatch();
    private bool publishing;

    /// <summary>
    /// Where batches are written, and what Redis sends from (not copied): kept from one batch to the next, as only one
    /// publishes at a time (<see cref="publishing"/>) and the next is written once Redis answered the last.
    /// </summary>
    private ArrayBufferWriter<byte> buffer = new(MaxPublishBytes);

    public RedisBackplane(IConnectionMultiplexer redis, RedisChannel channel, IHubProtocol[] protocols, Func<Delivery, Task> deliverHere, ILogger logger)
    {
        this.redis = redis;
        this.channel = channel;
        this.protocols = protocols;
        this.deliverHere = deliverHere;
        this.logger = logger;
        subscribed = new Lazy<Task>(SubscribeAsync);
    }

    /// <summary>Ends once this instance listens to the others (or could not yet: Redis re-subscribes when it is back).</summary>
    public Task SubscribedAsync() => subscribed.Value;

    public Task PublishAsync(Delivery delivery)
    {
        Task batch;
        lock (gate)
        {
            pending.Add(delivery);
            batch = published.Task;
            if (publishing)
            {
                return batch;
            }

            publishing = true;
        }

        _ = PublishPendingAsync();
        return batch;
    }

    private static TaskCompletionSource NewBatch() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task PublishPendingAsync()
    {
        List<Delivery> spare = [];
        while (true)
        {
            List<Delivery> batch;
            TaskCompletionSource done;
            lock (gate)
            {
                if (pending.Count == 0)
                {
                    publishing = false;
                    return;
                }

                (batch, pending, spare) = (pending, spare, pending);
                (done, published) = (published, NewBatch());
            }

            try
            {
                var subscriber = redis.GetSubscriber();
                buffer.ResetWrittenCount();
                buffer.Write(origin);
                foreach (var delivery in batch)
                {
                    Write(buffer, delivery);
                    if (buffer.WrittenCount >= MaxPublishBytes)
                    {
                        await subscriber.PublishAsync(channel, buffer.WrittenMemory);
                        buffer.ResetWrittenCount();
                        buffer.Write(origin);
                    }
                }

                if (buffer.WrittenCount > OriginLength)
                {
                    await subscriber.PublishAsync(channel, buffer.WrittenMemory);
                }

                done.SetResult();
            }
            catch (Exception ex)
            {
                // A publish that failed may still be queued in the client, holding the buffer: write the next elsewhere.
                buffer = new ArrayBufferWriter<byte>(MaxPublishBytes);
                done.SetException(ex);
            }

            batch.Clear();
        }
    }

    private async Task SubscribeAsync()
    {
        try
        {
            var queue = await redis.GetSubscriber().SubscribeAsync(channel);
            // One batch at a time, in the order published.
            queue.OnMessage(message => Receive(message.Message));
        }
        catch (RedisException ex)
        {
            LogSubscribeFailed(logger, ex);
        }
    }

    private void Receive(RedisValue value)
    {
        ReadOnlyMemory<byte> batch = value;
        if (batch.Length < OriginLength || batch.Span[..OriginLength].SequenceEqual(origin))
        {
            return;
        }

        try
        {
            var reader = new Reader(batch[OriginLength..]);
            while (!reader.End)
            {
                var target = (DeliveryTarget)reader.Byte();
                var names = reader.Strings();
                var except = reader.Strings();
                var payload = new SerializedMessage[reader.Count()];
                for (var i = 0; i < payload.Length; i++)
                {
                    payload[i] = new SerializedMessage(ProtocolName(reader.String()), reader.Bytes());
                }

                // The writes are queued on each connection in this order; a slow connection holds up nobody else.
                _ = deliverHere(new Delivery(target, names, except, payload));
            }
        }
        catch (Exception ex) when (ex is FormatException or ArgumentOutOfRangeException or InvalidCastException)
        {
            LogMalformedBatch(logger, ex);
        }
    }

    /// <summary>The server's own instance of a protocol's name, so that a batch does not make one string per delivery.</summary>
    private string ProtocolName(string name)
    {
        foreach (var protocol in protocols)
        {
            if (protocol.Name == name)
            {
                return protocol.Name;
            }
        }

        return name;
    }

    private static void Write(ArrayBufferWriter<byte> buffer, Delivery delivery)
    {
        buffer.Write([(byte)delivery.Target]);
        WriteStrings(buffer, delivery.Names);
        WriteStrings(buffer, delivery.ExceptConnections);
        WriteCount(buffer, delivery.Payload.Length);
        foreach (var serialized in delivery.Payload)
        {
            WriteString(buffer, serialized.ProtocolName);
            WriteCount(buffer, serialized.Serialized.Length);
            buffer.Write(serialized.Serialized.Span);
        }
    }

    private static void WriteStrings(ArrayBufferWriter<byte> buffer, IReadOnlyList<string> values)
    {
        WriteCount(buffer, values.Count);
        foreach (var value in values)
        {
            WriteString(buffer, value);
        }
    }

    private static void WriteString(ArrayBufferWriter<byte> buffer, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        WriteCount(buffer, length);
        Encoding.UTF8.GetBytes(value, buffer.GetSpan(length));
        buffer.Advance(length);
    }

    private static void WriteCount(ArrayBufferWriter<byte> buffer, int value)
    {
        var span = buffer.GetSpan(5);
        var i = 0;
        var rest = (uint)value;
        for (; rest >= 0x80; rest >>= 7)
        {
            span[i++] = (byte)(rest | 0x80);
        }

        span[i++] = (byte)rest;
        buffer.Advance(i);
    }

    /// <summary>Reads what <see cref="Write"/> wrote; the payloads are slices of the batch, not copies.</summary>
    private sealed class Reader(ReadOnlyMemory<byte> batch)
    {
        private int position;

        public bool End => position >= batch.Length;

        public byte Byte() => position < batch.Length ? batch.Span[position++] : throw new FormatException("Truncated batch.");

        public int Count()
        {
            var value = 0;
            for (var shift = 0; shift < 35; shift += 7)
            {
                var b = Byte();
                value |= (b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value >= 0 && value <= batch.Length - position ? value : throw new FormatException("Bad length.");
                }
            }

            throw new FormatException("Bad length.");
        }

        public ReadOnlyMemory<byte> Bytes()
        {
            var length = Count();
            var bytes = batch.Slice(position, length);
            position += length;
            return bytes;
        }

        public string String() => Encoding.UTF8.GetString(Bytes().Span);

        public string[] Strings()
        {
            var values = new string[Count()];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = String();
            }

            return values;
        }
    }

    [LoggerMessage(12, LogLevel.Warning, "Could not subscribe to the other instances' deliveries yet; Redis subscribes again when it is back", EventName = "BackplaneSubscribeFailed")]
    private static partial void LogSubscribeFailed(ILogger logger, Exception ex);

    [LoggerMessage(13, LogLevel.Error, "A batch from another instance could not be read and was dropped", EventName = "BackplaneMalformedBatch")]
    private static partial void LogMalformedBatch(ILogger logger, Exception ex);
}
