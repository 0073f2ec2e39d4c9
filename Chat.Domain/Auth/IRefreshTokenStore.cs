namespace Chat.Domain.Auth;

/// <summary>
/// A refresh token's server-side record. Every token of a family shares its user and its absolute expiry: rotation
/// hands the family on, it never extends it. A family is a session: the access tokens issued with it name it.
/// </summary>
public sealed record RefreshTokenEntry(string UserId, string FamilyId, DateTimeOffset FamilyExpiresAt);

public enum RotationOutcome
{
    /// <summary>The token was live: it is consumed now, and its replacement is live.</summary>
    Rotated,

    /// <summary>The token had already been consumed: its whole family is revoked now.</summary>
    ReuseDetected,

    /// <summary>No such token, or its family is expired or revoked.</summary>
    Rejected,
}

/// <param name="Outcome">What the rotation did.</param>
/// <param name="Entry">The token's record; null when <see cref="RotationOutcome.Rejected"/>.</param>
public sealed record RotationResult(RotationOutcome Outcome, RefreshTokenEntry? Entry);

/// <summary>
/// Refresh tokens by the hash of the token, never the token itself, and the families (sessions) they belong to.
/// Every operation is atomic: of concurrent rotations of one token exactly one succeeds.
/// </summary>
public interface IRefreshTokenStore
{
    /// <summary>
    /// Keeps the first token of a new family. When the user then has more than <paramref name="maxSessions"/> live
    /// families, the oldest end.
    /// </summary>
    /// <returns>The ids of the families ended to make room.</returns>
    Task<IReadOnlyList<string>> StoreAsync(string tokenHash, RefreshTokenEntry entry, int maxSessions, CancellationToken cancellationToken = default);

    /// <summary>Consumes a live token and makes <paramref name="replacementHash"/> the family's live token.</summary>
    Task<RotationResult> RotateAsync(string tokenHash, string replacementHash, CancellationToken cancellationToken = default);

    /// <summary>Revokes the token's family; unknown tokens are ignored.</summary>
    Task RevokeFamilyAsync(string tokenHash, CancellationToken cancellationToken = default);

    /// <summary>Revokes every family of the user.</summary>
    Task RevokeUserAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Which of <paramref name="familyIds"/> were ended: revoked (logout, reuse, the session cap), not merely
    /// expired or forgotten. A store that lost its data (Redis flushed) ends no session by that: connected users stay.
    /// </summary>
    Task<IReadOnlySet<string>> EndedFamiliesAsync(IReadOnlyCollection<string> familyIds, CancellationToken cancellationToken = default);
}
