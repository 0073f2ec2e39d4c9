using Chat.Domain.Users;

namespace Chat.Api.Users;

/// <summary>What every signed-in user may see of another.</summary>
public sealed record UserSummary(string Id, string Username, string AvatarUrl)
{
    public static UserSummary From(User user) => new(user.Id, user.Username, user.AvatarUrl);
}

/// <summary>Another user with their presence: <c>LastSeenAt</c> is null while they are online or were never seen.</summary>
public sealed record PeerView(string Id, string Username, string AvatarUrl, bool Online, DateTimeOffset? LastSeenAt)
{
    public static PeerView From(User user, bool online) =>
        new(user.Id, user.Username, user.AvatarUrl, online, online ? null : user.LastSeenAt);

    /// <summary>A user in a block with the viewer (either way): never online, never seen.</summary>
    public static PeerView WithoutPresence(User user) => new(user.Id, user.Username, user.AvatarUrl, false, null);
}

/// <summary>A user's own account.</summary>
public sealed record UserProfile(string Id, string Username, string Email, string AvatarUrl, DateTimeOffset CreatedAt)
{
    public static UserProfile From(User user) => new(user.Id, user.Username, user.Email, user.AvatarUrl, user.CreatedAt);
}

/// <param name="Source">"gravatar" or "unsplash".</param>
public sealed record AvatarRequest(string? Source);

/// <summary>The request and response examples Swagger UI shows for the user endpoints.</summary>
internal static class UserExamples
{
    private const string Id = "019ab5d2c4e07a3b9f1e2d3c4b5a6978";
    private const string Avatar = "https://www.gravatar.com/avatar/ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976?d=identicon&s=256";

    public static readonly AvatarRequest AvatarChange = new("unsplash");

    public static readonly UserProfile Profile = new(Id, "alice", "alice@example.com", Avatar, new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero));

    public static readonly UserSummary Summary = new(Id, "alice", Avatar);

    public static readonly PeerView Peer = new(Id, "alice", Avatar, Online: false, new DateTimeOffset(2026, 11, 24, 9, 30, 0, TimeSpan.Zero));
}
