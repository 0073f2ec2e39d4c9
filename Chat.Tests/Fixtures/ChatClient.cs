using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.AspNetCore.SignalR.Client;

namespace Chat.Tests.Fixtures;

/// <summary>
/// What a test does as a client of one Chat address, an instance (<see cref="ChatApp"/>) or nginx in front of several:
/// sign up, log in, create a user, list who is online, open a hub connection. The one copy of each of those calls.
/// </summary>
public sealed class ChatClient(HttpClient http)
{
    private static int userCount;

    public HttpClient Http { get; } = http;

    public Uri BaseAddress => Http.BaseAddress!;

    public async Task<HttpResponseMessage> SignupAsync(string? username, string? email, string? password) =>
        await Http.PostAsJsonAsync("/api/auth/signup", new { username, email, password });

    public async Task<HttpResponseMessage> LoginAsync(string? username, string? password) =>
        await Http.PostAsJsonAsync("/api/auth/login", new { username, password });

    public async Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        await Http.PostAsJsonAsync("/api/auth/refresh", new { refreshToken });

    public async Task<HttpResponseMessage> LogoutAsync(string refreshToken) =>
        await Http.PostAsJsonAsync("/api/auth/logout", new { refreshToken });

    /// <summary>The refresh token of a login or refresh answer.</summary>
    public static async Task<string> RefreshTokenOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("refreshToken").GetString()!;

    /// <summary>A new user, signed up and logged in, whose name no other test uses.</summary>
    public async Task<TestUser> CreateUserAsync()
    {
        var username = $"u{Interlocked.Increment(ref userCount)}_{Guid.NewGuid():N}"[..24];
        var email = $"{username}@example.com";
        var password = $"pw-{Guid.NewGuid():N}";
        var signup = await SignupAsync(username, email, password);
        await EnsureSuccessAsync(signup, "Signup");
        var login = await LoginAsync(username, password);
        await EnsureSuccessAsync(login, "Login");
        var tokens = (await login.Content.ReadFromJsonAsync<TokenBody>())!;
        return new TestUser(tokens.User.Id, username, email, password, tokens.AccessToken, tokens.RefreshToken);
    }

    public HttpRequestMessage Authorized(HttpMethod method, string path, string accessToken)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return request;
    }

    /// <summary>A GET with <paramref name="accessToken"/> as its bearer token.</summary>
    public async Task<HttpResponseMessage> GetAsync(string path, string accessToken)
    {
        using var request = Authorized(HttpMethod.Get, path, accessToken);
        return await Http.SendAsync(request);
    }

    /// <summary>GET /api/users/online as <paramref name="asUser"/>: one JSON object per user.</summary>
    public async Task<List<JsonElement>> OnlineAsync(TestUser asUser)
    {
        using var response = await GetAsync("/api/users/online", asUser.AccessToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<List<JsonElement>>())!;
    }

    /// <summary>The ids of the users GET /api/users/online lists.</summary>
    public async Task<List<string?>> OnlineIdsAsync(TestUser asUser) =>
        (await OnlineAsync(asUser)).Select(u => u.GetProperty("id").GetString()).ToList();

    /// <summary>
    /// A started hub connection over WebSockets, negotiated first as the JS client does. By default the token goes in
    /// the <c>access_token</c> query string, as browsers must send it; <paramref name="useHeader"/> sends it as a bearer
    /// header instead. <paramref name="configure"/> may change the transport further (handlers, a WebSocket factory).
    /// </summary>
    public async Task<ChatConnection> ConnectAsync(
        string accessToken,
        bool useHeader = false,
        Action<HttpConnectionOptions>? configure = null,
        CancellationToken cancellationToken = default)
    {
        var url = new Uri(BaseAddress, useHeader ? "/hubs/chat" : $"/hubs/chat?access_token={Uri.EscapeDataString(accessToken)}");
        var hub = new HubConnectionBuilder()
            .WithUrl(url, o =>
            {
                o.Transports = HttpTransportType.WebSockets;
                if (useHeader)
                {
                    o.AccessTokenProvider = () => Task.FromResult<string?>(accessToken);
                }

                configure?.Invoke(o);
            })
            .Build();
        var connection = new ChatConnection(hub);
        try
        {
            await hub.StartAsync(cancellationToken);
        }
        catch
        {
            await hub.DisposeAsync();
            throw;
        }

        return connection;
    }

    public Task<ChatConnection> ConnectAsync(TestUser user) => ConnectAsync(user.AccessToken);

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string call) =>
        Assert.True(
            response.IsSuccessStatusCode,
            $"{call} at {BaseAddress} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");

    private sealed record TokenBody(string AccessToken, string RefreshToken, UserBody User);

    private sealed record UserBody(string Id);
}

public sealed record TestUser(string Id, string Username, string Email, string Password, string AccessToken, string RefreshToken);
