using System.Globalization;
using Microsoft.AspNetCore.Http.Features;

namespace Chat.Api.Platform.Security;

/// <summary>
/// Request bodies on <c>/api</c> hold a small JSON object: at most <see cref="MaxBytes"/>, far below Kestrel's 30 MB
/// default. A larger one is a 413 problem, and the connection closes after it.
/// </summary>
internal static class RequestBodyLimit
{
    public const long MaxBytes = 16 * 1024;

    public static IApplicationBuilder UseApiBodyLimit(this IApplicationBuilder app) =>
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/api"), api => api.Use(LimitAsync));

    private static async Task LimitAsync(HttpContext context, RequestDelegate next)
    {
        // A chunked body declares no length: the server counts it as it is read, and past the limit fails the read with
        // a 413 BadHttpRequestException, which the endpoint's body binding turns into a 413 status (and, in
        // Development, the exception handler into a 413 problem): UseStatusCodePages writes the problem body.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = MaxBytes;
        }

        if (context.Request.ContentLength > MaxBytes)
        {
            await TooLargeAsync(context);
            return;
        }

        await next(context);
    }

    // Declared too large: refused before a byte of it is read. The server then closes the connection rather than
    // read the body it refused: said in the response, so that a client does not send its next request on it.
    private static async Task TooLargeAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        context.Response.Headers.Connection = "close";
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status413PayloadTooLarge,
                Title = "The request body is too large.",
                Detail = string.Create(CultureInfo.InvariantCulture, $"At most {MaxBytes} bytes."),
            },
        });
    }
}
