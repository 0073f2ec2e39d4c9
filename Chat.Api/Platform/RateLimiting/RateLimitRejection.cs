using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;

namespace Chat.Api.Platform.RateLimiting;

/// <summary>How every HTTP rate limit says no: 429, an integer <c>Retry-After</c>, and a problem.</summary>
internal static class RateLimitRejection
{
    private const string DefaultTitle = "Too many requests.";

    public static RateLimiterOptions RejectWithProblem(this RateLimiterOptions options)
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.OnRejected = RejectAsync;
        return options;
    }

    /// <summary>
    /// The same answer from an endpoint that keeps a limit of its own (the failed-login budget): <paramref name="title"/>
    /// says which limit it is.
    /// </summary>
    public static ProblemHttpResult TooManyRequests(HttpResponse response, TimeSpan retryAfter, string title = DefaultTitle)
    {
        var seconds = SetRetryAfter(response, retryAfter);
        return TypedResults.Problem(title: title, detail: Detail(seconds), statusCode: StatusCodes.Status429TooManyRequests);
    }

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var seconds = SetRetryAfter(
            context.Response,
            rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.Zero);
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = DefaultTitle,
                Detail = Detail(seconds),
            },
        });
    }

    /// <summary>Whole seconds, at least one: <c>Retry-After</c> takes an integer, and 0 would invite an instant retry.</summary>
    private static int SetRetryAfter(HttpResponse response, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return seconds;
    }

    private static string Detail(int seconds) => $"Try again in {seconds} s.";
}
