using System.Diagnostics.Metrics;

namespace Chat.Api.Platform.RateLimiting;

/// <summary>
/// Refusals by the limits ASP.NET Core's rate-limiting middleware does not see (its own meter counts the HTTP ones):
/// the hub's per-user limits and the failed-login budget per account.
/// </summary>
public sealed class RateLimitMetrics
{
    public const string MeterName = "Chat.RateLimiting";

    private readonly Counter<long> rejections;

    public RateLimitMetrics(IMeterFactory meters) =>
        rejections = meters.Create(MeterName).CreateCounter<long>(
            "chat.rate_limit.rejections", unit: "{rejection}", description: "Calls refused by a limit, by limiter (chat.rate_limit.limiter).");

    /// <summary>The limiters of <c>chat.rate_limit.rejections</c>.</summary>
    public static class Limiters
    {
        public const string Messages = "messages";
        public const string HubCalls = "hub_calls";
        public const string FailedLogins = "failed_logins";
    }

    public void Rejected(string limiter) => rejections.Add(1, new KeyValuePair<string, object?>("chat.rate_limit.limiter", limiter));
}
