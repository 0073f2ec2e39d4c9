using System.Security.Cryptography;
using System.Text;
using Chat.Domain;
using Chat.Domain.Auth;
using Chat.Domain.Users;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chat.Infrastructure.Auth;

public sealed record IssuedTokens(string AccessToken, string RefreshToken, int ExpiresIn);

/// <summary>Mints access JWTs and opaque refresh tokens; only a refresh token's hash is ever stored.</summary>
public sealed class TokenIssuer(IOptions<JwtOptions> options, IRefreshTokenStore refreshTokens, TimeProvider time)
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
        return new IssuedTokens(CreateAccessToken(user), refreshToken, (int)jwt.AccessTokenLifetime.TotalSeconds);
    }

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
}
