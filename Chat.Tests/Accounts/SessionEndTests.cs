using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Chat.Tests.Fixtures;

namespace Chat.Tests.Accounts;

/// <summary>A session that ends, ends everywhere within seconds: its access tokens are refused, its hub connections close.</summary>
public abstract class SessionEndTests(ChatApp app)
{
    protected static readonly TimeSpan Within = TimeSpan.FromSeconds(5);

    protected static async Task<bool> RefusedAsync(ChatApp app, string accessToken) =>
        (await app.GetAsync("/api/users/me", accessToken)).StatusCode == HttpStatusCode.Unauthorized;

    [Fact]
    public async Task Logout_refuses_the_session_access_token_and_closes_its_hub_connections_but_no_other_session()
    {
        var user = await app.CreateUserAsync();
        var other = await (await app.LoginAsync(user.Username, user.Password)).Content.ReadFromJsonAsync<JsonElement>();
        var otherToken = other.GetProperty("accessToken").GetString()!;
        await using var connection = await app.ConnectAsync(user);
        await using var otherConnection = await app.ConnectAsync(otherToken);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/api/users/me", user.AccessToken)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await app.LogoutAsync(user.RefreshToken)).StatusCode);

        await Eventually.TrueAsync(() => RefusedAsync(app, user.AccessToken), Within, "the logged-out session's token still works");
        await connection.Closed.WaitAsync(Within);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/api/users/me", otherToken)).StatusCode);
        Assert.False(otherConnection.Closed.IsCompleted);
    }

    [Fact]
    public async Task Logout_everywhere_ends_every_session_of_the_user()
    {
        var user = await app.CreateUserAsync();
        var second = (await (await app.LoginAsync(user.Username, user.Password)).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("accessToken").GetString()!;
        await using var connection = await app.ConnectAsync(second);

        var all = await app.Http.SendAsync(app.Authorized(HttpMethod.Post, "/api/auth/logout-all", user.AccessToken));

        Assert.Equal(HttpStatusCode.NoContent, all.StatusCode);
        await Eventually.TrueAsync(async () => await RefusedAsync(app, user.AccessToken) && await RefusedAsync(app, second), Within);
        await connection.Closed.WaitAsync(Within);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.RefreshAsync(user.RefreshToken)).StatusCode);
    }

    [Fact]
    public async Task A_detected_refresh_token_reuse_ends_the_session_and_its_access_tokens()
    {
        var user = await app.CreateUserAsync();
        await app.RefreshAsync(user.RefreshToken);

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.RefreshAsync(user.RefreshToken)).StatusCode);

        await Eventually.TrueAsync(() => RefusedAsync(app, user.AccessToken), Within);
    }
}

[Collection(MySqlRedisChat.Name)]
public sealed class SessionEndOnMySqlAndRedisTests(MySqlRedisChat chat) : SessionEndTests(chat.App)
{
    [Fact]
    public async Task A_login_beyond_the_session_cap_ends_the_oldest_session()
    {
        await using var capped = chat.StartInstance(new Dictionary<string, string?> { ["Jwt:MaxSessions"] = "2" });
        var user = await capped.CreateUserAsync(); // session 1
        var second = await ChatClient.RefreshTokenOf(await capped.LoginAsync(user.Username, user.Password));
        var third = await ChatClient.RefreshTokenOf(await capped.LoginAsync(user.Username, user.Password));

        await Eventually.TrueAsync(() => RefusedAsync(capped, user.AccessToken), Within);
        Assert.Equal(HttpStatusCode.Unauthorized, (await capped.RefreshAsync(user.RefreshToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await capped.RefreshAsync(second)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await capped.RefreshAsync(third)).StatusCode);
    }

    [Fact]
    public async Task Logout_on_one_instance_closes_the_session_hub_connection_on_the_other()
    {
        await using var other = chat.StartInstance();
        var user = await chat.App.CreateUserAsync();
        await using var connection = await other.ConnectAsync(user);

        await chat.App.LogoutAsync(user.RefreshToken);

        await connection.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        await Eventually.TrueAsync(async () => (await other.GetAsync("/api/users/me", user.AccessToken)).StatusCode == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(5));
    }
}

[Collection(EmbeddedChat.Name)]
public sealed class SessionEndEmbeddedTests(EmbeddedChat chat) : SessionEndTests(chat.App);
