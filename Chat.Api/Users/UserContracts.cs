using Chat.Domain.Users;

namespace Chat.Api.Users;

/// <summary>What every signed-in user may see of another.</summary>
public sealed record UserSummary(string Id, string Username, string AvatarUrl)
{
    public static UserSummary From(User user) => new(user.Id, user.Username, user.AvatarUrl);
}

/// <summary>A user's own account.</summary>
public sealed record UserProfile(string Id, string Username, string Email, string AvatarUrl, DateTimeOffset CreatedAt)
{
    public static UserProfile From(User user) => new(user.Id, user.Username, user.Email, user.AvatarUrl, user.CreatedAt);
}

/// <param name="Source">"gravatar" or "unsplash".</param>
public sealed record AvatarRequest(string? Source);
