using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Chat.Api.Platform.RateLimiting;

/// <summary>The reads (conversations, history, sync, search, who is online) share one budget per user.</summary>
public sealed class ReadRateLimitOptions
{
    public const string Section = "RateLimiting:Reads";

    [Range(1, 1_000_000)]
    public int PermitLimit { get; set; } = 300;

    [Range(1, 86_400)]
    public int WindowSeconds { get; set; } = 10;

    public TimeSpan Window => TimeSpan.FromSeconds(WindowSeconds);
}

public static class ReadRateLimit
{
    /// <summary>The policy name, for <c>RequireRateLimiting</c> on an authenticated group.</summary>
    public const string Policy = "reads";

    internal static RateLimiterOptions AddReadPolicy(this RateLimiterOptions options)
    {
        options.AddPolicy(Policy, context =>
        {
            var limit = context.RequestServices.GetRequiredService<IOptions<ReadRateLimitOptions>>().Value;
            var user = context.User.FindFirstValue(JwtRegisteredClaimNames.Sub) ?? "anonymous";
            return context.RequestServices.GetRequiredService<IRateLimitPartitions>().FixedWindow(Policy, user, limit.PermitLimit, limit.Window);
        });
        return options;
    }
}
