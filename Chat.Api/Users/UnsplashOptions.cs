namespace Chat.Api.Users;

public sealed class UnsplashOptions
{
    public const string Section = "Unsplash";

    /// <summary>The application's access key; without one, pictures come from Gravatar only.</summary>
    public string? AccessKey { get; set; }

    public string BaseUrl { get; set; } = "https://api.unsplash.com";

    /// <summary>The base URL as a base for relative paths: with a trailing slash, so a path prefix is kept.</summary>
    public Uri BaseAddress => new(BaseUrl.TrimEnd('/') + "/");

    public bool HasValidBaseUrl => Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
}
