using Microsoft.Extensions.Options;
using System.ComponentModel.DataAnnotations;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Chat.Api.Accounts;

public sealed class JwtOptions
{
    public const string Section = "Jwt";
    public const int MinimumKeyBytes = 32;

    /// <summary>Text whose UTF-8 bytes are the HMAC-SHA256 key.</summary>
    public string SigningKey { get; set; } = "";

    [Required]
    public string Issuer { get; set; } = "chat";

    [Required]
    public string Audience { get; set; } = "chat";

    [Range(1, 1440)]
    public int AccessTokenMinutes { get; set; } = 15;

    [Range(1, 365)]
    public int RefreshTokenDays { get; set; } = 14;

    /// <summary>Sessions (refresh-token families) one user may hold; a login beyond them ends the oldest.</summary>
    [Range(1, 1000)]
    public int MaxSessions { get; set; } = 10;

    public TimeSpan AccessTokenLifetime => TimeSpan.FromMinutes(AccessTokenMinutes);

    public TimeSpan RefreshTokenLifetime => TimeSpan.FromDays(RefreshTokenDays);

    public SymmetricSecurityKey CreateSigningKey() => new(Encoding.UTF8.GetBytes(SigningKey));
}

internal sealed class JwtOptionsValidator : IValidateOptions<JwtOptions>
{
    public ValidateOptionsResult Validate(string? name, JwtOptions options) =>
        Encoding.UTF8.GetByteCount(options.SigningKey ?? "") >= JwtOptions.MinimumKeyBytes
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Jwt:SigningKey must be a secret of at least {JwtOptions.MinimumKeyBytes} bytes (UTF-8). " +
                "Set it with the Jwt__SigningKey environment variable; only the Development environment generates one.");
}
