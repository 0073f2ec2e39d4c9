using System.Diagnostics.Metrics;

namespace Chat.Api.Presence;

/// <summary>Presence's fan-out: the events addressed to contacts, one per contact (those offline receive nothing).</summary>
public sealed class PresenceMetrics
{
    public const string MeterName = "Chat.Presence";

    private readonly Counter<long> events;

    public PresenceMetrics(IMeterFactory meters) =>
        events = meters.Create(MeterName).CreateCounter<long>(
            "chat.presence.events", unit: "{event}", description: "UserOnline and UserOffline events addressed, one per contact (chat.presence.event: online, offline).");

    public void Online(int contacts) => events.Add(contacts, new KeyValuePair<string, object?>("chat.presence.event", "online"));

    public void Offline(int contacts) => events.Add(contacts, new KeyValuePair<string, object?>("chat.presence.event", "offline"));
}
