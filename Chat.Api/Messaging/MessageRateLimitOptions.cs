using System.ComponentModel.DataAnnotations;

namespace Chat.Api.Messaging;

/// <summary>Hub messages per user: a token bucket.</summary>
public sealed class MessageRateLimitOptions
{
    public const string Section = "RateLimiting:Messages";

    [Range(1, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 10;

    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 20;
}
