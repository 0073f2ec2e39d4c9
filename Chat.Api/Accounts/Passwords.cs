using Chat.Domain.Users;
using Microsoft.AspNetCore.Identity;

namespace Chat.Api.Accounts;

/// <summary>PBKDF2 hashing through the framework's <see cref="PasswordHasher{TUser}"/>, with equal work on every login.</summary>
public sealed class Passwords(IPasswordHasher<User> hasher)
{
    /// <summary>OWASP ASVS 5.0's floor for PBKDF2-HMAC-SHA512, which the framework's V3 format uses.</summary>
    public const int IterationCount = 210_000;

    // Verified when no such user exists, so "unknown user" and "wrong password" cost the same time.
    private readonly Lazy<string> decoyHash = new(() => hasher.HashPassword(null!, Guid.NewGuid().ToString()));

    public string Hash(User user, string password) => hasher.HashPassword(user, password);

    /// <summary>
    /// Whether <paramref name="password"/> is the user's. <see cref="PasswordVerificationResult.SuccessRehashNeeded"/>
    /// says the stored hash is of an older format or fewer iterations: the caller stores <see cref="Hash"/> anew.
    /// </summary>
    public PasswordVerificationResult Verify(User? user, string password)
    {
        if (user is null)
        {
            hasher.VerifyHashedPassword(null!, decoyHash.Value, password);
            return PasswordVerificationResult.Failed;
        }

        return hasher.VerifyHashedPassword(user, user.PasswordHash, password);
    }
}
