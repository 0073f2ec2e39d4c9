using System.ComponentModel.DataAnnotations;

namespace Chat.Api.Presence;

public sealed class PresenceOptions
{
    public const string Section = "Presence";

    /// <summary>How long a negotiated hub connection that never starts holds its place under the connection cap.</summary>
    public static readonly TimeSpan NegotiationLapse = TimeSpan.FromSeconds(30);

    /// <summary>How long a crashed instance's connections stay "online"; heartbeats renew every third of it.</summary>
    [Range(2, 3600)]
    public int TtlSeconds { get; set; } = 30;

    public TimeSpan Ttl => TimeSpan.FromSeconds(TtlSeconds);

    public TimeSpan HeartbeatInterval => Ttl / 3;

    /// <summary>A reconnect within this long after the last connection ended announces nothing, nor did the leaving.</summary>
    [Range(0, 3600)]
    public int GraceSeconds { get; set; } = 5;

    public TimeSpan Grace => TimeSpan.FromSeconds(GraceSeconds);
}
