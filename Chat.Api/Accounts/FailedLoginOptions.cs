using System.ComponentModel.DataAnnotations;

namespace Chat.Api.Accounts;

/// <summary>The failed-login budget of each account: wrong passwords per fixed window, from any address.</summary>
public sealed class FailedLoginOptions
{
    public const string Section = "RateLimiting:FailedLogins";

    [Range(1, 1_000_000)]
    public int PermitLimit { get; set; } = 10;

    [Range(1, 86_400)]
    public int WindowSeconds { get; set; } = 900;

    public TimeSpan Window => TimeSpan.FromSeconds(WindowSeconds);
}
