using System.ComponentModel.DataAnnotations;

namespace Chat.Api.Accounts;

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
