using System.Diagnostics.Metrics;

namespace Chat.Api.Messaging;

/// <summary>The message store's meter: what operators and the benchmark read (<c>dotnet-counters</c>, OpenTelemetry).</summary>
public sealed class MessagingMetrics
{
    public const string MeterName = "Chat.Messaging";

    private readonly Counter<long> stored;
    private readonly Counter<long> notStored;
    private readonly Histogram<int> batchSize;
    private readonly Histogram<double> commitDuration;

    public MessagingMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        stored = meter.CreateCounter<long>("chat.messages.stored", unit: "{message}", description: "Messages committed to the database.");
        notStored = meter.CreateCounter<long>("chat.messages.not_stored", unit: "{message}", description: "Sends that failed because the database did not commit them.");
        batchSize = meter.CreateHistogram<int>("chat.store.batch.size", unit: "{message}", description: "Messages per commit of the batch writer.");
        commitDuration = meter.CreateHistogram<double>("chat.store.commit.duration", unit: "s", description: "How long one batch took to write and commit.");
    }

    public void Committed(int messages, TimeSpan duration)
    {
        stored.Add(messages);
        batchSize.Record(messages);
        commitDuration.Record(duration.TotalSeconds);
    }

    public void NotStored(int messages) => notStored.Add(messages);
}
