namespace Chat.Domain.Users;

/// <summary>Profile pictures: Gravatar's, always available, and Unsplash's random photos when configured.</summary>
public interface IAvatarProvider
{
    bool UnsplashConfigured { get; }

    /// <summary>Gravatar's URL for the email; no network call.</summary>
    string GravatarUrl(string email);

    /// <summary>A random portrait from Unsplash; null when it is not configured or did not answer usefully.</summary>
    Task<string?> RandomUnsplashUrlAsync(CancellationToken cancellationToken = default);
}
