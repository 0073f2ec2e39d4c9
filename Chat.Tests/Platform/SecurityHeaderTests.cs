using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Chat.Tests.Fixtures;

namespace Chat.Tests.Platform;

[Collection(MySqlRedisChat.Name)]
public sealed class SecurityHeaderTests(MySqlRedisChat chat)
{
    private ChatApp App => chat.App;

    private static void AssertEveryResponseHeader(HttpResponseMessage response)
    {
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
    }

    /// <summary>The policy's directives by name, each with its sources.</summary>
    private static Dictionary<string, string[]> PolicyOf(HttpResponseMessage response) =>
        Assert.Single(response.Headers.GetValues("Content-Security-Policy"))
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => d.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(d => d[0], d => d[1..]);

    [Fact]
    public async Task Api_answers_successes_and_errors_alike_carry_nosniff_and_no_referrer()
    {
        var user = await App.CreateUserAsync();

        AssertEveryResponseHeader(await App.GetAsync("/api/users/me", user.AccessToken));
        AssertEveryResponseHeader(await App.GetAsync("/api/users/nosuchuser", user.AccessToken));
        AssertEveryResponseHeader(await App.Http.GetAsync("/api/users/me"));
        AssertEveryResponseHeader(await App.LoginAsync(user.Username, "a wrong password"));
        AssertEveryResponseHeader(await App.Http.GetAsync("/no/such/path"));
    }

    [Fact]
    public async Task Health_answers_carry_them_too()
    {
        var live = await App.Http.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        AssertEveryResponseHeader(live);
        AssertEveryResponseHeader(await App.Http.GetAsync("/health/ready"));
    }

    [Fact]
    public async Task The_page_carries_a_policy_of_its_own_origin_and_avatars_from_Gravatar_and_Unsplash_only()
    {
        var page = await App.Http.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        AssertEveryResponseHeader(page);
        var policy = PolicyOf(page);
        Assert.Equal(["'self'"], policy["default-src"]);
        Assert.Equal(["'none'"], policy["frame-ancestors"]);
        Assert.Equal(["'self'", "https://www.gravatar.com", "https://images.unsplash.com"], policy["img-src"]);
        Assert.Equal(["'self'"], policy["connect-src"]);
        Assert.DoesNotContain(policy.Values.SelectMany(sources => sources), s => s is "'unsafe-inline'" or "'unsafe-eval'" or "*" or "data:");
    }

    [Fact]
    public async Task The_pages_scripts_and_styles_carry_the_same_headers()
    {
        foreach (var file in new[] { "/index.html", "/app.js", "/app.css" })
        {
            var response = await App.Http.GetAsync(file);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            AssertEveryResponseHeader(response);
            Assert.Equal(["'self'"], PolicyOf(response)["default-src"]);
        }
    }

    [Fact]
    public async Task An_Unsplash_photo_off_images_unsplash_com_which_the_policy_would_block_is_not_taken()
    {
        await using var unsplash = await FakeUnsplash.StartAsync();
        unsplash.Answer = FakeUnsplash.Behaviour.PhotoElsewhere;
        await using var app = chat.StartInstance(new Dictionary<string, string?>
        {
            ["Unsplash:AccessKey"] = "test-access-key",
            ["Unsplash:BaseUrl"] = unsplash.BaseUrl,
        });

        var user = await app.CreateUserAsync();

        var me = await (await app.GetAsync("/api/users/me", user.AccessToken)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("https://www.gravatar.com/avatar/", me.GetProperty("avatarUrl").GetString());
    }
}
