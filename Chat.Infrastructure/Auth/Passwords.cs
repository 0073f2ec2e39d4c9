using Chat.Domain.Users;
using Microsoft.AspNetCore.Identity;

namespace Chat.Infrastructure.Auth;

/// <summary>PBKDF2 hashing through the framework's <see cref="PasswordHasher{TUser}"/>, with equal work on every login.</summary>
public sealed class Passwords(IPasswordHasher<User> hasher)
{
    /// <summary>OWASP ASVS 5.0's floor for PBKDF2-HMAC-SHA512, which the framework's V3 format uses.</summary>
    public const int IterationCount = 210_000;

    // Verified when no such user exists, so "unknown user" and "wrong password" cost the same time.
    private readonly Lazy<string> decoyHash = new(() => hasher.HashPassword(null!, Guid.NewGuid().ToString()));

    public string Hash(User user, string password) => hasher.HashPassword(user, password);

    /// <summary>True when <paramref name="password"/> is the user's; upgrades an outdated hash in place.</summary>
    public bool Verify(User? user, string password)
    {
        if (user is null)
        {
            hasher.VerifyHashedPassword(null!, decoyHash.Value, password);
            return false;
        }

        switch (hasher.VerifyHashedPassword(user, user.PasswordHash, password))
        {
            case PasswordVerificationResult.Success:
                return true;
            case PasswordVerificationResult.SuccessRehashNeeded:
                user.PasswordHash = hasher.HashPassword(user, password);
                return true;
            default:
                return false;
        }
    }
}
