using System.Security.Cryptography;
using System.Text;
using Chat.Domain;
using Chat.Domain.Auth;
using Chat.Domain.Users;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chat.Infrastructure.Auth;

public sealed record IssuedTokens(string AccessToken, string RefreshToken, int ExpiresIn);

/// <summary>The outcome of presenting a refresh token, and the token that replaces it when it was live.</summary>
public sealed record RefreshTokenRotation(RotationResult Result, string ReplacementToken);

/// <summary>Mints access JWTs and opaque refresh tokens; only a refresh token's hash is ever stored.</summary>
public sealed partial class TokenIssuer(
    IOptions<JwtOptions> options,
    IRefreshTokenStore refreshTokens,
    TimeProvider time,
    ILogger<TokenIssuer> logger)
{
    /// <summary>The JWT <c>typ</c> of access tokens (RFC 9068), checked on every request.</summary>
    public const string AccessTokenType = "at+jwt";

    private static readonly JsonWebTokenHandler Handler = new();
    private readonly JwtOptions jwt = options.Value;
    private readonly SigningCredentials credentials = new(options.Value.CreateSigningKey(), SecurityAlgorithms.HmacSha256);

    /// <summary>Starts a new refresh-token family (a login).</summary>
    public async Task<IssuedTokens> IssueAsync(User user, CancellationToken cancellationToken)
    {
        var family = new RefreshTokenEntry(user.Id, SortableId.New(time), time.GetUtcNow() + jwt.RefreshTokenLifetime);
        var refreshToken = NewRefreshToken();
        await refreshTokens.StoreAsync(HashRefreshToken(refreshToken), family, cancellationToken);
        return Issue(user, refreshToken);
    }

    /// <summary>Tokens for <paramref name="user"/> around a refresh token already stored.</summary>
    public IssuedTokens Issue(User user, string refreshToken) =>
        new(CreateAccessToken(user), refreshToken, (int)jwt.AccessTokenLifetime.TotalSeconds);

    /// <summary>Consumes <paramref name="refreshToken"/>; a second use of one token revokes its whole family.</summary>
    public async Task<RefreshTokenRotation> RotateAsync(string refreshToken, CancellationToken cancellationToken)
    {
        var replacement = NewRefreshToken();
        var result = await refreshTokens.RotateAsync(HashRefreshToken(refreshToken), HashRefreshToken(replacement), cancellationToken);
        if (result is { Outcome: RotationOutcome.ReuseDetected, Entry: { } entry })
        {
            LogReuse(logger, entry.UserId, entry.FamilyId);
        }

        return new RefreshTokenRotation(result, replacement);
    }

    public Task RevokeAsync(string refreshToken, CancellationToken cancellationToken) =>
        refreshTokens.RevokeFamilyAsync(HashRefreshToken(refreshToken), cancellationToken);

    public string CreateAccessToken(User user)
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
