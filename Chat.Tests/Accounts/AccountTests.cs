using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Chat.Api.Platform.Persistence;
using Chat.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Accounts;

[Collection(MySqlRedisChat.Name)]
public sealed class AccountTests(MySqlRedisChat chat)
{
    private ChatApp App => chat.App;

    private static string NewName() => $"acc_{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task Signup_answers_201_with_the_location_and_the_trimmed_email()
    {
        var name = NewName();
        var response = await App.SignupAsync(name, $"  {name}@Example.com ", "password123");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("id").GetString();
        Assert.Equal($"/api/users/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(name, body.GetProperty("username").GetString());
        Assert.Equal($"{name}@Example.com", body.GetProperty("email").GetString());
        Assert.StartsWith("https://", body.GetProperty("avatarUrl").GetString());
        Assert.True(body.TryGetProperty("createdAt", out _));
        Assert.False(body.TryGetProperty("passwordHash", out _));
    }

    [Fact]
    public async Task Signup_reports_every_invalid_field_as_a_validation_problem()
    {
        var response = await App.SignupAsync("x!", "not-an-email", "short");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("username", out _));
        Assert.True(errors.TryGetProperty("email", out _));
        Assert.True(errors.TryGetProperty("password", out _));
    }

    [Fact]
    public async Task Signup_with_missing_fields_or_a_malformed_body_is_a_400_problem()
    {
        var missing = await App.Http.PostAsJsonAsync("/api/auth/signup", new { });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var errors = (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal(3, errors.EnumerateObject().Count());

        var malformed = await App.Http.PostAsync("/api/auth/signup", new StringContent("{not json", null, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_password_over_128_characters_is_rejected_at_signup_and_at_login()
    {
        var name = NewName();
        var signup = await App.SignupAsync(name, $"{name}@example.com", new string('p', 129));
        Assert.Equal(HttpStatusCode.BadRequest, signup.StatusCode);

        var login = await App.LoginAsync(name, new string('p', 129));
        Assert.Equal(HttpStatusCode.BadRequest, login.StatusCode);
    }

    [Fact]
    public async Task Usernames_and_emails_are_unique_whatever_their_case()
    {
        var name = NewName();
        (await App.SignupAsync(name, $"{name}@example.com", "password123")).EnsureSuccessStatusCode();

        var sameName = await App.SignupAsync(name.ToUpperInvariant(), $"other{name}@example.com", "password123");
        Assert.Equal(HttpStatusCode.Conflict, sameName.StatusCode);
        Assert.Equal("application/problem+json", sameName.Content.Headers.ContentType?.MediaType);

        var sameEmail = await App.SignupAsync($"o{name}", $"{name.ToUpperInvariant()}@EXAMPLE.com", "password123");
        Assert.Equal(HttpStatusCode.Conflict, sameEmail.StatusCode);
    }

    [Fact]
    public async Task Of_racing_signups_for_one_username_exactly_one_wins()
    {
        var name = NewName();
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            App.SignupAsync(i % 2 == 0 ? name : name.ToUpperInvariant(), $"race{i}{name}@example.com", "password123")));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(5, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
    }

    [Fact]
    public async Task Login_by_username_or_email_returns_tokens_and_the_user()
    {
        var name = NewName();
        (await App.SignupAsync(name, $"{name}@example.com", "password123")).EnsureSuccessStatusCode();

        foreach (var login in new[] { name, name.ToUpperInvariant(), $"{name}@EXAMPLE.com" })
        {
            var response = await App.LoginAsync(login, "password123");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("Bearer", body.GetProperty("tokenType").GetString());
            Assert.Equal(15 * 60, body.GetProperty("expiresIn").GetInt32());
            Assert.Equal(3, body.GetProperty("accessToken").GetString()!.Split('.').Length);
            Assert.True(body.GetProperty("refreshToken").GetString()!.Length >= 43, "a refresh token carries at least 256 bits");
            Assert.Equal(name, body.GetProperty("user").GetProperty("username").GetString());
            Assert.True(body.GetProperty("user").TryGetProperty("avatarUrl", out _));
        }
    }

    [Fact]
    public async Task Unknown_user_and_wrong_password_get_the_same_401()
    {
        var user = await App.CreateUserAsync();

        var wrongPassword = await App.LoginAsync(user.Username, "not the password");
        var unknownUser = await App.LoginAsync($"nobody_{Guid.NewGuid():N}"[..20], "not the password");

        Assert.Equal(HttpStatusCode.Unauthorized, wrongPassword.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknownUser.StatusCode);
        var a = await wrongPassword.Content.ReadFromJsonAsync<JsonElement>();
        var b = await unknownUser.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(a.GetProperty("title").GetString(), b.GetProperty("title").GetString());
        Assert.Equal(a.GetProperty("type").GetString(), b.GetProperty("type").GetString());
        Assert.Equal("application/problem+json", unknownUser.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Me_and_user_by_id_answer_with_a_bearer_token_and_404_for_no_such_user()
    {
        var user = await App.CreateUserAsync();
        var other = await App.CreateUserAsync();

        var me = await App.GetAsync("/api/users/me", user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        var profile = await me.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(user.Id, profile.GetProperty("id").GetString());
        Assert.Equal(user.Email, profile.GetProperty("email").GetString());

        var byId = await App.GetAsync($"/api/users/{other.Id}", user.AccessToken);
        var summary = await byId.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(other.Username, summary.GetProperty("username").GetString());
        Assert.False(summary.TryGetProperty("email", out _), "another user's email is not shown");

        var missing = await App.GetAsync("/api/users/nosuchuser", user.AccessToken);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);

        var anonymous = await App.Http.GetAsync("/api/users/me");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Passwords_are_stored_as_PBKDF2_hashes_of_at_least_210000_iterations()
    {
        var user = await App.CreateUserAsync();

        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        var hash = await db.Users.Where(u => u.Id == user.Id).Select(u => u.PasswordHash).SingleAsync();

        Assert.DoesNotContain(user.Password, hash);
        // ASP.NET Core Identity's V3 format: 0x01, PRF, iteration count, salt length (big-endian uint32s), salt, subkey.
        var bytes = Convert.FromBase64String(hash);
        Assert.Equal(0x01, bytes[0]);
        var iterations = (bytes[5] << 24) | (bytes[6] << 16) | (bytes[7] << 8) | bytes[8];
        Assert.True(iterations >= 210_000, $"{iterations} iterations");
    }
}
