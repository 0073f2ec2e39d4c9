using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Chat.Tests.Fixtures;

namespace Chat.Tests.Users;

[Collection(MySqlRedisChat.Name)]
public sealed class AvatarTests(MySqlRedisChat chat) : IAsyncLifetime
{
    private FakeUnsplash unsplash = null!;
    private ChatApp app = null!;

    public async Task InitializeAsync()
    {
        unsplash = await FakeUnsplash.StartAsync();
        app = chat.StartInstance(new Dictionary<string, string?>
        {
            ["Unsplash:AccessKey"] = "test-access-key",
            ["Unsplash:BaseUrl"] = unsplash.BaseUrl,
        });
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        await unsplash.DisposeAsync();
    }

    private static string Gravatar(string email) =>
        $"https://www.gravatar.com/avatar/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email.Trim().ToLowerInvariant())))}?d=identicon&s=256";

    private async Task<(HttpResponseMessage Response, string Email)> SignupAsync()
    {
        var name = $"av_{Guid.NewGuid():N}"[..20];
        var email = $" {name}@Example.com ";
        return (await app.SignupAsync(name, email, "password123"), email);
    }

    private static async Task<string?> AvatarOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("avatarUrl").GetString();

    private Task<HttpResponseMessage> ChangeAvatarAsync(TestUser user, object body) => ChangeAvatarAsync(app, user, body);

    private static async Task<HttpResponseMessage> ChangeAvatarAsync(ChatApp on, TestUser user, object body)
    {
        var request = on.Authorized(HttpMethod.Post, "/api/users/me/avatar", user.AccessToken);
        request.Content = JsonContent.Create(body);
        return await on.Http.SendAsync(request);
    }

    [Fact]
    public async Task Signup_takes_a_random_Unsplash_portrait_when_an_access_key_is_configured()
    {
        var (response, _) = await SignupAsync();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(FakeUnsplash.PhotoUrl, await AvatarOf(response));
        Assert.Equal("Client-ID test-access-key", unsplash.LastAuthorization);
        Assert.Equal("v1", unsplash.LastAcceptVersion);
    }

    [Theory]
    [InlineData(FakeUnsplash.Behaviour.Unauthorized, "401")]
    [InlineData(FakeUnsplash.Behaviour.RateLimited, "rate limit")]
    [InlineData(FakeUnsplash.Behaviour.ServerError, "500")]
    [InlineData(FakeUnsplash.Behaviour.Slow, "Unsplash could not be asked")]
    [InlineData(FakeUnsplash.Behaviour.MalformedJson, "Unsplash could not be asked")]
    public async Task Any_Unsplash_failure_falls_back_to_Gravatar_and_logs_why(FakeUnsplash.Behaviour answer, string logged)
    {
        unsplash.Answer = answer;
        var clock = Stopwatch.StartNew();

        var (response, email) = await SignupAsync();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(Gravatar(email), await AvatarOf(response));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), "signup did not wait for the slow answer");
        Assert.Contains(app.Logs.Lines, l => l.Contains("Gravatar", StringComparison.Ordinal) && l.Contains(logged, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_user_can_switch_between_Gravatar_and_Unsplash_and_every_view_shows_the_new_picture()
    {
        unsplash.Answer = FakeUnsplash.Behaviour.Unauthorized;
        var user = await app.CreateUserAsync();
        unsplash.Answer = FakeUnsplash.Behaviour.Photo;

        var toUnsplash = await ChangeAvatarAsync(user, new { source = "unsplash" });
        Assert.Equal(HttpStatusCode.OK, toUnsplash.StatusCode);
        Assert.Equal(FakeUnsplash.PhotoUrl, await AvatarOf(toUnsplash));

        var me = await app.GetAsync("/api/users/me", user.AccessToken);
        Assert.Equal(FakeUnsplash.PhotoUrl, await AvatarOf(me));
        var login = await app.LoginAsync(user.Username, user.Password);
        Assert.Equal(FakeUnsplash.PhotoUrl, (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("user").GetProperty("avatarUrl").GetString());

        var toGravatar = await ChangeAvatarAsync(user, new { source = "gravatar" });
        Assert.Equal(Gravatar(user.Email), await AvatarOf(toGravatar));
    }

    [Theory]
    [InlineData("flickr")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("Gravatar")]
    public async Task Another_source_is_a_validation_problem(string? source)
    {
        var user = await app.CreateUserAsync();

        var response = await ChangeAvatarAsync(user, new { source });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("source", out _));
    }

    [Fact]
    public async Task When_Unsplash_fails_on_request_the_picture_is_unchanged_and_the_answer_is_503()
    {
        var user = await app.CreateUserAsync();
        unsplash.Answer = FakeUnsplash.Behaviour.RateLimited;

        var response = await ChangeAvatarAsync(user, new { source = "unsplash" });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var me = await app.GetAsync("/api/users/me", user.AccessToken);
        Assert.Equal(FakeUnsplash.PhotoUrl, await AvatarOf(me));
    }

    [Fact]
    public async Task Without_an_access_key_signup_uses_Gravatar_and_Unsplash_cannot_be_chosen()
    {
        var user = await chat.App.CreateUserAsync();
        var me = await chat.App.GetAsync("/api/users/me", user.AccessToken);
        Assert.Equal(Gravatar(user.Email), await AvatarOf(me));

        var response = await ChangeAvatarAsync(chat.App, user, new { source = "unsplash" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
