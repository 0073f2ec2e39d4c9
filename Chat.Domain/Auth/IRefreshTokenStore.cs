namespace Chat.Domain.Auth;

/// <summary>A refresh token's server-side record. The store is keyed by a hash of the token, never the token itself.</summary>
public sealed record RefreshTokenEntry(string UserId, string FamilyId, DateTimeOffset FamilyExpiresAt);

public interface IRefreshTokenStore
{
    Task StoreAsync(string tokenHash, RefreshTokenEntry entry, CancellationToken cancellationToken = default);
}
