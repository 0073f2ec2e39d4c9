using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Chat.Api.Messaging;

/// <summary>
/// The message store's meter: what operators and the benchmark read (<c>dotnet-counters</c>, OpenTelemetry); and its
/// traces, an activity per commit (hub invocations have SignalR's own).
/// </summary>
public sealed class MessagingMetrics
{
    public const string MeterName = "Chat.Messaging";

    /// <summary>The store's activities, by the meter's name: one per commit of a batch.</summary>
    public static readonly ActivitySource Traces = new(MeterName);

    private readonly Counter<long> stored;
    private readonly Counter<long> notStored;
    private readonly Histogram<int> batchSize;
    private readonly Histogram<double> commitDuration;
    private readonly Counter<long> rejected;
    private readonly Counter<long> deliveredLive;
    private readonly Histogram<double> sendDuration;

    public MessagingMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        stored = meter.CreateCounter<long>("chat.messages.stored", unit: "{message}", description: "Messages committed to the database.");
        notStored = meter.CreateCounter<long>("chat.messages.not_stored", unit: "{message}", description: "Sends that failed because the database did not commit them.");
        batchSize = meter.CreateHistogram<int>("chat.store.batch.size", unit: "{message}", description: "Messages per commit of the batch writer.");
        commitDuration = meter.CreateHistogram<double>("chat.store.commit.duration", unit: "s", description: "How long one batch took to write and commit.");
        rejected = meter.CreateCounter<long>("chat.messages.rejected", unit: "{message}", description: "Sends refused, by reason (chat.reject.reason).");
        deliveredLive = meter.CreateCounter<long>("chat.messages.delivered", unit: "{message}", description: "Stored messages handed to live delivery (the receiver's connections, on any instance).");
        sendDuration = meter.CreateHistogram<double>("chat.send.duration", unit: "s", description: "From a send's arrival at the hub method to its receipt (the ack latency).");
    }

    /// <summary>The reasons of <c>chat.messages.rejected</c>.</summary>
    public static class Reasons
    {
        public const string RateLimited = "rate_limited";
        public const string UnknownReceiver = "unknown_receiver";
        public const string Blocked = "blocked";
        public const string ClientMessageIdTaken = "client_message_id_taken";
    }

    public void Rejected(string reason) => rejected.Add(1, new KeyValuePair<string, object?>("chat.reject.reason", reason));

    public void DeliveredLive() => deliveredLive.Add(1);

    public void Sent(TimeSpan duration) => sendDuration.Record(duration.TotalSeconds);

    public void Committed(int messages, TimeSpan duration)
    {
        stored.Add(messages);
        batchSize.Record(messages);
        commitDuration.Record(duration.TotalSeconds);
    }

    public void NotStored(int messages) => notStored.Add(messages);
}
