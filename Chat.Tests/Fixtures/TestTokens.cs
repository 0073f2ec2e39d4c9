using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chat.Tests.Fixtures;

/// <summary>Access tokens that look right but must be refused.</summary>
public static class TestTokens
{
    public static string Signed(string userId, string key, DateTime expires, string issuer = "chat", string audience = "chat") =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = expires.AddMinutes(-15),
            NotBefore = expires.AddMinutes(-15),
            Expires = expires,
            TokenType = "at+jwt",
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
            Claims = new Dictionary<string, object> { ["sub"] = userId },
        });

    public static string SignedWithAnotherKey(string userId) =>
        Signed(userId, "another-signing-key-that-is-long-enough-0123456789", DateTime.UtcNow.AddMinutes(10));

    /// <summary>Expired by more than the 30 s of clock skew the server allows.</summary>
    public static string Expired(string userId) => Signed(userId, ChatApp.SigningKey, DateTime.UtcNow.AddMinutes(-2));

    public static string Unsigned(string userId)
    {
        static string Encode(object value) => Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(value));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return $"{Encode(new { alg = "none", typ = "at+jwt" })}.{Encode(new { sub = userId, iss = "chat", aud = "chat", iat = now, nbf = now, exp = now + 600 })}.";
    }
}
