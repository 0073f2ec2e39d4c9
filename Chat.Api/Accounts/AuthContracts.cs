using Chat.Domain.Users;
using Chat.Api.Users;

namespace Chat.Api.Accounts;

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

/// <summary>The request and response examples Swagger UI shows for the auth endpoints.</summary>
internal static class AuthExamples
{
    public static readonly SignupRequest Signup = new("alice", "alice@example.com", "correct horse battery staple");

    public static readonly LoginRequest Login = new("alice", "correct horse battery staple");

    public static readonly RefreshRequest Refresh = new("kq3Jm9Vx1sWbQ7rT0yZpL4nE8hC2fA6uGdOiXjYe5Mw");

    public static readonly TokenResponse Tokens = new(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiIwMTlhYjVkMmM0ZTA3YTNiOWYxZTJkM2M0YjVhNjk3OCJ9.c2lnbmF0dXJl",
        "kq3Jm9Vx1sWbQ7rT0yZpL4nE8hC2fA6uGdOiXjYe5Mw",
        "Bearer",
        900,
        UserExamples.Summary);
}
