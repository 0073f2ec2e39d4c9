using System.Globalization;
using System.Threading.RateLimiting;
using Chat.Infrastructure.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace Chat.Api.RateLimiting;

/// <summary>The HTTP rate-limit policies: signup, login and refresh share one budget per client IP.</summary>
public static class RateLimits
{
    public const string Auth = "auth";

    public static RateLimiterOptions AddChatPolicies(this RateLimiterOptions options)
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        // The client IP is the peer's address, or X-Forwarded-For's when the peer is a trusted proxy (UseForwardedHeaders).
        options.AddPolicy(Auth, context => context.RequestServices.GetRequiredService<ChatRateLimiters>()
            .AuthPartition(context.Connection.RemoteIpAddress?.ToString() ?? "unknown"));
        options.OnRejected = RejectAsync;
        return options;
    }

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
            : 1;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests.",
                Detail = $"Try again in {seconds} s.",
            },
        });
    }
}
