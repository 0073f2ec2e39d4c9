namespace Chat.Api.OpenApi;

/// <summary>The request and response examples shown in Swagger UI.</summary>
internal static class Examples
{
    private const string Id = "019ab5d2c4e07a3b9f1e2d3c4b5a6978";
    private const string Avatar = "https://www.gravatar.com/avatar/ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976?d=identicon&s=256";

    public static readonly SignupRequest Signup = new("alice", "alice@example.com", "correct horse battery staple");

    public static readonly LoginRequest Login = new("alice", "correct horse battery staple");

    public static readonly RefreshRequest Refresh = new("kq3Jm9Vx1sWbQ7rT0yZpL4nE8hC2fA6uGdOiXjYe5Mw");

    public static readonly AvatarRequest AvatarChange = new("unsplash");

    public static readonly UserProfile Profile = new(Id, "alice", "alice@example.com", Avatar, new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero));

    public static readonly UserSummary Summary = new(Id, "alice", Avatar);

    public static readonly TokenResponse Tokens = new(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiIwMTlhYjVkMmM0ZTA3YTNiOWYxZTJkM2M0YjVhNjk3OCJ9.c2lnbmF0dXJl",
        "kq3Jm9Vx1sWbQ7rT0yZpL4nE8hC2fA6uGdOiXjYe5Mw",
        "Bearer",
        900,
        Summary);
}
