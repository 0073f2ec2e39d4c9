using Microsoft.AspNetCore.StaticFiles;

namespace Chat.Api.Platform.Security;

/// <summary>
/// The headers every response carries, and the page's Content-Security-Policy: the page keeps its tokens in
/// <c>sessionStorage</c>, so the policy is the backstop against any script injected into it.
/// </summary>
internal static class SecurityHeaders
{
    /// <summary>
    /// What the page (wwwroot) may load: its own scripts, styles and calls (the hub's WebSocket included: <c>'self'</c>
    /// covers ws: and wss: of the same host), avatars from Gravatar and Unsplash, no plugins, no framing, no
    /// <c>&lt;base&gt;</c>, forms posted only to itself. No <c>'unsafe-inline'</c>: styles the page's scripts set
    /// through the CSSOM (<c>element.style</c>) are allowed without it.
    /// </summary>
    public const string PagePolicy =
        "default-src 'self'; " +
        "connect-src 'self'; " +
        "img-src 'self' https://www.gravatar.com https://images.unsplash.com; " +
        "object-src 'none'; " +
        "base-uri 'none'; " +
        "form-action 'self'; " +
        "frame-ancestors 'none'";

    /// <summary>
    /// <c>X-Content-Type-Options: nosniff</c> and <c>Referrer-Policy: no-referrer</c> on every response the pipeline
    /// sends, errors included: set as the response starts, after the exception handler has cleared the headers.
    /// </summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            context.Response.OnStarting(static state =>
            {
                var headers = ((HttpResponse)state).Headers;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                return Task.CompletedTask;
            }, context.Response);
            return next(context);
        });

    /// <summary>For <see cref="StaticFileOptions.OnPrepareResponse"/>: the page and its files get the page's policy.</summary>
    public static void AddPagePolicy(StaticFileResponseContext file) =>
        file.Context.Response.Headers.ContentSecurityPolicy = PagePolicy;
}
