using System.Security.Cryptography;
using System.Text;
using Chat.Domain.Users;

namespace Chat.Infrastructure.Avatars;

/// <summary>Gravatar's URL for an email: no network call, and an identicon when the address has no picture.</summary>
internal sealed class GravatarAvatarProvider : IAvatarProvider
{
    public const int Size = 256;

    public Task<string> GetAvatarUrlAsync(string email, CancellationToken cancellationToken = default) =>
        Task.FromResult(UrlFor(email));

    public static string UrlFor(string email)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email.Trim().ToLowerInvariant())));
        return $"https://www.gravatar.com/avatar/{hash}?d=identicon&s={Size}";
    }
}
