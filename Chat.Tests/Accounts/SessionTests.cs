using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Chat.Tests.Fixtures;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Accounts;

[Collection(MySqlRedisChat.Name)]
public sealed class SessionTests(MySqlRedisChat chat)
{
    private ChatApp App => chat.App;

    [Fact]
    public async Task Refresh_returns_new_tokens_of_the_login_shape_and_a_new_refresh_token()
    {
        var user = await App.CreateUserAsync();

        var response = await App.RefreshAsync(user.RefreshToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.NotEqual(user.RefreshToken, body.GetProperty("refreshToken").GetString());
        Assert.Equal("Bearer", body.GetProperty("tokenType").GetString());
        Assert.Equal(900, body.GetProperty("expiresIn").GetInt32());
        Assert.Equal(user.Id, body.GetProperty("user").GetProperty("id").GetString());
        var me = await App.GetAsync("/api/users/me", body.GetProperty("accessToken").GetString()!);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task Presenting_a_used_refresh_token_is_401_and_revokes_the_token_that_replaced_it()
    {
        var user = await App.CreateUserAsync();
        var replacement = await ChatClient.RefreshTokenOf(await App.RefreshAsync(user.RefreshToken));

        var reuse = await App.RefreshAsync(user.RefreshToken);
        var afterReuse = await App.RefreshAsync(replacement);

        Assert.Equal(HttpStatusCode.Unauthorized, reuse.StatusCode);
        Assert.Equal("application/problem+json", reuse.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, afterReuse.StatusCode);
    }

    [Fact]
    public async Task Reuse_is_logged_as_a_security_event_naming_user_and_family_but_never_the_token()
    {
        var user = await App.CreateUserAsync();
        await App.RefreshAsync(user.RefreshToken);

        await App.RefreshAsync(user.RefreshToken);

        var line = Assert.Single(App.Logs.Lines, l => l.Contains("Security:", StringComparison.Ordinal) && l.Contains(user.Id, StringComparison.Ordinal));
        Assert.Contains("family", line, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(user.RefreshToken, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logout_revokes_the_family_and_answers_204_even_for_unknown_tokens()
    {
        var user = await App.CreateUserAsync();
        var replacement = await ChatClient.RefreshTokenOf(await App.RefreshAsync(user.RefreshToken));

        Assert.Equal(HttpStatusCode.NoContent, (await App.LogoutAsync(replacement)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await App.RefreshAsync(replacement)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await App.LogoutAsync(replacement)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await App.LogoutAsync("never-issued")).StatusCode);
    }

    [Fact]
    public async Task Of_twenty_concurrent_refreshes_with_one_token_exactly_one_succeeds()
    {
        var user = await App.CreateUserAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => App.RefreshAsync(user.RefreshToken)));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
    }

    [Fact]
    public async Task A_refresh_token_is_not_an_access_token_and_an_access_token_does_not_refresh()
    {
        var user = await App.CreateUserAsync();

        var asBearer = await App.GetAsync("/api/users/me", user.RefreshToken);
        var accessAsRefresh = await App.RefreshAsync(user.AccessToken);
        var onHub = await Assert.ThrowsAsync<HttpRequestException>(() => App.ConnectAsync(user.RefreshToken));

        Assert.Equal(HttpStatusCode.Unauthorized, asBearer.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, accessAsRefresh.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, onHub.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.RefreshAsync(user.RefreshToken)).StatusCode);
    }

    [Fact]
    public async Task A_missing_refresh_token_is_a_validation_problem()
    {
        var response = await App.Http.PostAsJsonAsync("/api/auth/refresh", new { });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("refreshToken", out _));
    }

    [Fact]
    public async Task A_hub_connection_closes_when_its_access_token_expires()
    {
        // Tokens live one minute, minted by a clock 58 s behind: each one expires about 2 s after it is issued.
        await using var app = chat.StartInstance(
            new Dictionary<string, string?> { ["Jwt:AccessTokenMinutes"] = "1" },
            services => services.AddSingleton<TimeProvider>(new ShiftedTimeProvider(TimeSpan.FromSeconds(-58))));
        var user = await app.CreateUserAsync();
        await using var connection = await app.ConnectAsync(user);

        await connection.Closed.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(HubConnectionState.Disconnected, connection.Hub.State);
    }

    [Fact]
    public async Task A_user_cannot_hold_more_connections_than_the_cap()
    {
        await using var app = chat.StartInstance(new Dictionary<string, string?> { ["Hub:MaxConnectionsPerUser"] = "2" });
        var user = await app.CreateUserAsync();
        await using var first = await app.ConnectAsync(user);
        await using var second = await app.ConnectAsync(user);
        // A connection is counted after its handshake, which is all the client waits for.
        await Eventually.TrueAsync(
            async () => await app.ConnectionsOfAsync(user.Id) == 2,
            because: "The server did not count the first two connections.");

        // The third is refused at its negotiation already (v2): 429, and no connection state piles up.
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => app.ConnectAsync(user));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        await first.SendRawAsync($"{user.Id}:the first two still work");
        Assert.Equal("the first two still work", (await second.NextMessageAsync()).Text);

        // The client's dispose returns before the server has handled the disconnect: connect again once it has.
        await first.DisposeAsync();
        await Eventually.TrueAsync(
            async () => await app.ConnectionsOfAsync(user.Id) == 1,
            because: "The server did not count the first connection's disconnect.");
        await using var replacement = await app.ConnectAsync(user);
        await replacement.SendRawAsync($"{user.Id}:room again");
    }
}
