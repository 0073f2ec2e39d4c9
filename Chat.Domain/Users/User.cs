namespace Chat.Domain.Users;

public sealed class User
{
    public required string Id { get; init; }

    /// <summary>As entered; shown to other users.</summary>
    public required string Username { get; set; }

    /// <summary>Upper-invariant form the database keeps unique, so uniqueness ignores case on every provider.</summary>
    public required string NormalizedUsername { get; set; }

    /// <summary>Trimmed, otherwise as entered.</summary>
    public required string Email { get; set; }

    public required string NormalizedEmail { get; set; }

    public required string PasswordHash { get; set; }

    public required string AvatarUrl { get; set; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the user's last live connection ended; null while never seen offline.</summary>
    public DateTimeOffset? LastSeenAt { get; set; }

    public static string Normalize(string usernameOrEmail) => usernameOrEmail.Trim().ToUpperInvariant();

    /// <summary>A new user from a validated signup; the password hash and avatar are filled in afterwards.</summary>
    public static User Create(string id, string username, string email, DateTimeOffset now)
    {
        email = email.Trim();
        return new User
        {
            Id = id,
            Username = username,
            NormalizedUsername = Normalize(username),
            Email = email,
            NormalizedEmail = Normalize(email),
            PasswordHash = "",
            AvatarUrl = "",
            // Whole microseconds, as MySQL's datetime(6) keeps them: the signup answer matches every later read.
            CreatedAt = Timestamps.ToMicroseconds(now),
        };
    }
}
