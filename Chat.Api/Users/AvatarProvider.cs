using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Chat.Domain.Users;
using Microsoft.Extensions.Options;
using Polly;

namespace Chat.Api.Users;

/// <summary>
/// Gravatar URLs, and Unsplash's random-photo API through a typed client whose resilience handler bounds every call
/// to two seconds. Unsplash failing never fails the caller: the answer is null, and the reason is logged.
/// </summary>
internal sealed partial class AvatarProvider(HttpClient http, IOptions<UnsplashOptions> options, ILogger<AvatarProvider> logger)
    : IAvatarProvider
{
    public const int Size = 256;

    /// <summary>Where Unsplash serves its photos; the page's Content-Security-Policy allows it.</summary>
    public const string ImageHost = "images.unsplash.com";

    public bool UnsplashConfigured => !string.IsNullOrWhiteSpace(options.Value.AccessKey);

    public string GravatarUrl(string email)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email.Trim().ToLowerInvariant())));
        return $"https://www.gravatar.com/avatar/{hash}?d=identicon&s={Size}";
    }

    public async Task<string?> RandomUnsplashUrlAsync(CancellationToken cancellationToken = default)
    {
        if (!UnsplashConfigured)
        {
            return null;
        }

        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "photos/random?query=portrait&orientation=squarish&content_filter=high");
            request.Headers.Add("Authorization", $"Client-ID {options.Value.AccessKey}");
            request.Headers.Add("Accept-Version", "v1");
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                LogRefused(logger, (int)response.StatusCode, Reason(response));
                return null;
            }

            var photo = await response.Content.ReadFromJsonAsync<UnsplashPhoto>(cancellationToken);
            // Only Unsplash's image host: the page's Content-Security-Policy loads no image from anywhere else.
            if (photo?.Urls?.Small is { } url && Uri.TryCreate(url, UriKind.Absolute, out var uri)
                && uri.Scheme == Uri.UriSchemeHttps && uri.IsDefaultPort && uri.Host == ImageHost)
            {
                return url;
            }

            LogUnusable(logger);
            return null;
        }
        catch (Exception ex) when (ex is HttpRequestException or ExecutionRejectedException or JsonException or NotSupportedException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogFailed(logger, ex.GetType().Name, ex);
            return null;
        }
    }

    private static string Reason(HttpResponseMessage response) => response.StatusCode switch
    {
        HttpStatusCode.Unauthorized => "the access key was rejected",
        HttpStatusCode.Forbidden when response.Headers.TryGetValues("X-Ratelimit-Remaining", out var left) && left.FirstOrDefault() == "0" =>
            "Unsplash's hourly rate limit is used up",
        HttpStatusCode.Forbidden => "Unsplash refused the request (rate limit or permissions)",
        _ => "Unsplash answered with an error",
    };

    private sealed record UnsplashPhoto(UnsplashUrls? Urls);

    private sealed record UnsplashUrls(string? Small);

    [LoggerMessage(LogLevel.Warning, "Unsplash answered {Status}: {Reason}; using Gravatar")]
    private static partial void LogRefused(ILogger logger, int status, string reason);

    [LoggerMessage(LogLevel.Warning, "Unsplash's answer had no usable photo URL; using Gravatar")]
    private static partial void LogUnusable(ILogger logger);

    [LoggerMessage(LogLevel.Warning, "Unsplash could not be asked ({Failure}); using Gravatar")]
    private static partial void LogFailed(ILogger logger, string failure, Exception ex);
}
