using System.ComponentModel.DataAnnotations;

namespace Chat.Infrastructure.RateLimiting;

/// <summary>The auth endpoints' shared budget per client IP: a fixed window.</summary>
public sealed class AuthRateLimitOptions
{
    public const string Section = "RateLimiting:Auth";

    [Range(1, 1_000_000)]
    public int PermitLimit { get; set; } = 10;

    [Range(1, 86_400)]
    public int WindowSeconds { get; set; } = 60;

    public TimeSpan Window => TimeSpan.FromSeconds(WindowSeconds);
}

/// <summary>Hub messages per user: a token bucket.</summary>
public sealed class MessageRateLimitOptions
{
    public const string Section = "RateLimiting:Messages";

    [Range(1, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 10;

    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 20;
}
