using System.Security.Cryptography;
using System.Text;
using Chat.Domain;
using Chat.Domain.Auth;
using Chat.Domain.Users;
using Chat.Api.Platform.Persistence;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chat.Api.Accounts;

public sealed record IssuedTokens(string AccessToken, string RefreshToken, int ExpiresIn);

/// <summary>What presenting a refresh token gave: a new pair, or the reason there is none.</summary>
public abstract record RefreshResult
{
    public sealed record Refreshed(User User, IssuedTokens Tokens) : RefreshResult;

    /// <param name="Reason"><see cref="RotationOutcome.Rejected"/> or <see cref="RotationOutcome.ReuseDetected"/>.</param>
    public sealed record Refused(RotationOutcome Reason) : RefreshResult;
}

/// <summary>Mints access JWTs and opaque refresh tokens; only a refresh token's hash is ever stored.</summary>
public sealed partial class TokenIssuer(
    IOptions<JwtOptions> options,
    IRefreshTokenStore refreshTokens,
    Sessions sessions,
    AccountsMetrics metrics,
    TimeProvider time,
    ILogger<TokenIssuer> logger)
{
    /// <summary>The JWT <c>typ</c> of access tokens (RFC 9068), checked on every request.</summary>
    public const string AccessTokenType = "at+jwt";

    /// <summary>The claim naming the session (refresh-token family) an access token was issued to.</summary>
    public const string SessionClaim = "sid";

    private static readonly JsonWebTokenHandler Handler = new();
    private readonly JwtOptions jwt = options.Value;
    private readonly SigningCredentials credentials = new(options.Value.CreateSigningKey(), SecurityAlgorithms.HmacSha256);

    /// <summary>Starts a new refresh-token family (a login).</summary>
    public async Task<IssuedTokens> IssueAsync(User user, CancellationToken cancellationToken)
    {
        var family = new RefreshTokenEntry(user.Id, SortableId.New(time), time.GetUtcNow() + jwt.RefreshTokenLifetime);
        var refreshToken = NewRefreshToken();
        var ended = await refreshTokens.StoreAsync(HashRefreshToken(refreshToken), family, jwt.MaxSessions, cancellationToken);
        if (ended.Count > 0)
        {
            sessions.Ended(ended);
        }

        return Issue(user, family.FamilyId, refreshToken);
    }

    private IssuedTokens Issue(User user, string sessionId, string refreshToken) =>
        new(CreateAccessToken(user, sessionId), refreshToken, (int)jwt.AccessTokenLifetime.TotalSeconds);

    /// <summary>
    /// Consumes <paramref name="refreshToken"/> and issues the next pair of its family; a second use of one token
    /// revokes the whole family instead.
    /// </summary>
    public async Task<RefreshResult> RefreshAsync(string refreshToken, ChatDbContext db, CancellationToken cancellationToken)
    {
        var replacement = NewRefreshToken();
        var result = await refreshTokens.RotateAsync(HashRefreshToken(refreshToken), HashRefreshToken(replacement), cancellationToken);
        switch (result)
        {
            case { Outcome: RotationOutcome.Rotated, Entry: { } entry }
                when await db.Users.FindAsync([entry.UserId], cancellationToken) is { } user:
                return new RefreshResult.Refreshed(user, Issue(user, entry.FamilyId, replacement));
            case { Outcome: RotationOutcome.ReuseDetected, Entry: { } reused }:
                LogReuse(logger, reused.UserId, reused.FamilyId);
                metrics.RefreshReuseDetected();
                sessions.Ended([reused.FamilyId]);
                return new RefreshResult.Refused(RotationOutcome.ReuseDetected);
            default:
                return new RefreshResult.Refused(RotationOutcome.Rejected);
        }
    }

    /// <summary>Ends the refresh token's session (logout).</summary>
    public Task RevokeAsync(string refreshToken, CancellationToken cancellationToken) =>
        refreshTokens.RevokeFamilyAsync(HashRefreshToken(refreshToken), cancellationToken);

    /// <summary>Ends every session of the user (logout everywhere).</summary>
    public Task RevokeAllAsync(string userId, CancellationToken cancellationToken) =>
        refreshTokens.RevokeUserAsync(userId, cancellationToken);

    private string CreateAccessToken(User user, string sessionId)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = jwt.Issuer,
            Audience = jwt.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + jwt.AccessTokenLifetime,
            TokenType = AccessTokenType,
            SigningCredentials = credentials,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = user.Id,
                [JwtRegisteredClaimNames.Name] = user.Username,
                [SessionClaim] = sessionId,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            },
        });
    }

    /// <summary>256 random bits, URL-safe.</summary>
    public static string NewRefreshToken() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public static string HashRefreshToken(string refreshToken) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(refreshToken)));

    [LoggerMessage(LogLevel.Warning, "Security: a consumed refresh token was presented again; revoked family {FamilyId} of user {UserId}")]
    private static partial void LogReuse(ILogger logger, string userId, string familyId);
}
