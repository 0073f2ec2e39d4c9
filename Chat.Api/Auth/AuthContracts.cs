using Chat.Domain.Users;
using Chat.Infrastructure.Auth;

namespace Chat.Api.Auth;

// Fields are nullable so that a missing one is a validation error naming it, not a binding failure.
public sealed record SignupRequest(string? Username, string? Email, string? Password);

/// <param name="Username">The username or the email.</param>
/// <param name="Password">The password.</param>
public sealed record LoginRequest(string? Username, string? Password);

public sealed record RefreshRequest(string? RefreshToken);

public sealed record TokenResponse(string AccessToken, string RefreshToken, string TokenType, int ExpiresIn, UserSummary User)
{
    public static TokenResponse From(IssuedTokens tokens, User user) =>
        new(tokens.AccessToken, tokens.RefreshToken, "Bearer", tokens.ExpiresIn, UserSummary.From(user));
}
