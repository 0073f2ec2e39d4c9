using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Chat.Tests.Fixtures;

namespace Chat.Tests.Accounts;

/// <summary>
/// The failed-login budget of each account: more than ten wrong passwords in 15 minutes, and every login to it is a
/// 429 until the window ends. Each call comes from its own X-Forwarded-For address (believed from loopback), so
/// no per-address budget is ever what refuses it.
/// </summary>
[Collection(MySqlRedisChat.Name)]
public sealed class FailedLoginTests(MySqlRedisChat chat)
{
    private ChatApp App => chat.App;

    [Fact]
    public async Task After_ten_wrong_passwords_the_eleventh_login_is_a_429_even_with_the_right_password_from_another_address()
    {
        var user = await App.CreateUserAsync();

        await FailedLogin.SpendBudgetAsync(App, user.Username, 10);
        var refused = await FailedLogin.LoginAsync(App, user.Username, user.Password);

        await FailedLogin.AssertTooManyAsync(refused, maxRetryAfter: 900);
        await FailedLogin.AssertTooManyAsync(await FailedLogin.LoginAsync(App, user.Username, "wrong password"), maxRetryAfter: 900);
    }

    [Fact]
    public async Task The_username_and_the_email_in_any_case_spend_one_budget()
    {
        await using var app = chat.StartInstance(FailedLogin.Budget(permits: 3, windowSeconds: 900));
        var user = await app.CreateUserAsync();

        await FailedLogin.SpendBudgetAsync(app, user.Username, 1);
        await FailedLogin.SpendBudgetAsync(app, user.Email.ToUpperInvariant(), 1);
        await FailedLogin.SpendBudgetAsync(app, $"  {user.Username.ToUpperInvariant()} ", 1);

        await FailedLogin.AssertTooManyAsync(await FailedLogin.LoginAsync(app, user.Email, user.Password));
        await FailedLogin.AssertTooManyAsync(await FailedLogin.LoginAsync(app, user.Username, user.Password));
    }

    [Fact]
    public async Task A_correct_login_neither_counts_nor_resets_the_budget()
    {
        await using var app = chat.StartInstance(FailedLogin.Budget(permits: 3, windowSeconds: 900));
        var user = await app.CreateUserAsync();

        await FailedLogin.SpendBudgetAsync(app, user.Username, 2);
        Assert.Equal(HttpStatusCode.OK, (await FailedLogin.LoginAsync(app, user.Username, user.Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await FailedLogin.LoginAsync(app, user.Email, user.Password)).StatusCode);

        // Had either correct login counted, this third wrong password would be refused; had it reset, the next would pass.
        Assert.Equal(HttpStatusCode.Unauthorized, (await FailedLogin.LoginAsync(app, user.Username, "wrong password")).StatusCode);
        await FailedLogin.AssertTooManyAsync(await FailedLogin.LoginAsync(app, user.Username, user.Password));
    }

    [Fact]
    public async Task Two_instances_share_one_budget()
    {
        var budget = FailedLogin.Budget(permits: 4, windowSeconds: 900);
        await using var first = chat.StartInstance(budget);
        await using var second = chat.StartInstance(budget);
        var user = await first.CreateUserAsync();

        await FailedLogin.SpendBudgetAsync(first, user.Username, 2);
        await FailedLogin.SpendBudgetAsync(second, user.Email, 2);

        await FailedLogin.AssertTooManyAsync(await FailedLogin.LoginAsync(first, user.Username, user.Password));
        await FailedLogin.AssertTooManyAsync(await FailedLogin.LoginAsync(second, user.Username, user.Password));
    }

    [Fact]
    public async Task Thirty_wrong_passwords_at_once_from_thirty_addresses_get_only_ten_checked()
    {
        var user = await App.CreateUserAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => FailedLogin.LoginAsync(App, user.Username, "wrong password")));

        Assert.Equal(10, answers.Count(a => a.StatusCode == HttpStatusCode.Unauthorized));
        Assert.Equal(20, answers.Count(a => a.StatusCode == HttpStatusCode.TooManyRequests));
        await FailedLogin.AssertTooManyAsync(await FailedLogin.LoginAsync(App, user.Username, user.Password));
    }

    [Fact]
    public async Task A_name_of_no_account_is_answered_exactly_as_an_account_is()
    {
        await using var app = chat.StartInstance(FailedLogin.Budget(permits: 3, windowSeconds: 900));
        var user = await app.CreateUserAsync();
        var nobody = $"nobody_{Guid.NewGuid():N}"[..24];

        for (var i = 0; i < 4; i++)
        {
            using var known = await FailedLogin.LoginAsync(app, user.Username, "wrong password");
            using var unknown = await FailedLogin.LoginAsync(app, nobody, "wrong password");
            Assert.Equal(known.StatusCode, unknown.StatusCode);
            Assert.Equal(i < 3 ? HttpStatusCode.Unauthorized : HttpStatusCode.TooManyRequests, unknown.StatusCode);
            var a = await known.Content.ReadFromJsonAsync<JsonElement>();
            var b = await unknown.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(a.GetProperty("title").GetString(), b.GetProperty("title").GetString());
        }
    }

    [Fact]
    public async Task The_budget_is_whole_again_when_its_window_ends()
    {
        await using var app = chat.StartInstance(FailedLogin.Budget(permits: 2, windowSeconds: 2));
        var user = await app.CreateUserAsync();

        await FailedLogin.SpendBudgetAsync(app, user.Username, 2);
        await FailedLogin.AssertTooManyAsync(await FailedLogin.LoginAsync(app, user.Username, user.Password), maxRetryAfter: 2);

        await Eventually.TrueAsync(async () =>
            (await FailedLogin.LoginAsync(app, user.Username, user.Password)).StatusCode == HttpStatusCode.OK);
    }

    [Fact]
    public async Task With_Redis_unreachable_the_budget_falls_back_to_a_local_one_never_to_none()
    {
        await using var proxy = await TcpProxy.ForSharedRedisAsync();
        var settings = FailedLogin.Budget(permits: 3, windowSeconds: 60);
        settings["ConnectionStrings:Redis"] = $"127.0.0.1:{proxy.Port}";
        await using var app = chat.StartInstance(settings);
        var user = await App.CreateUserAsync();

        proxy.Stop();

        await FailedLogin.SpendBudgetAsync(app, user.Username, 3);
        await FailedLogin.AssertTooManyAsync(await FailedLogin.LoginAsync(app, user.Username, user.Password));
        Assert.Contains(app.Logs.Lines, l => l.Contains("fall back", StringComparison.Ordinal));
    }
}

[Collection(EmbeddedChat.Name)]
public sealed class EmbeddedFailedLoginTests(EmbeddedChat chat)
{
    private ChatApp App => chat.App;

    [Fact]
    public async Task After_ten_wrong_passwords_the_eleventh_login_is_a_429_even_with_the_right_password()
    {
        var user = await App.CreateUserAsync();

        await FailedLogin.SpendBudgetAsync(App, user.Email, 9);
        Assert.Equal(HttpStatusCode.OK, (await FailedLogin.LoginAsync(App, user.Username, user.Password)).StatusCode);
        await FailedLogin.SpendBudgetAsync(App, user.Username, 1);

        await FailedLogin.AssertTooManyAsync(await FailedLogin.LoginAsync(App, user.Username, user.Password), maxRetryAfter: 900);
    }

    [Fact]
    public async Task Thirty_wrong_passwords_at_once_get_only_ten_checked()
    {
        var user = await App.CreateUserAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => FailedLogin.LoginAsync(App, user.Username, "wrong password")));

        Assert.Equal(10, answers.Count(a => a.StatusCode == HttpStatusCode.Unauthorized));
        Assert.Equal(20, answers.Count(a => a.StatusCode == HttpStatusCode.TooManyRequests));
    }
}

/// <summary>Logins as the failed-login tests make them: each from an address of its own.</summary>
internal static class FailedLogin
{
    public static Dictionary<string, string?> Budget(int permits, int windowSeconds) => new()
    {
        ["RateLimiting:FailedLogins:PermitLimit"] = permits.ToString(),
        ["RateLimiting:FailedLogins:WindowSeconds"] = windowSeconds.ToString(),
    };

    private static string NewClientIp() => $"10.{Random.Shared.Next(256)}.{Random.Shared.Next(256)}.{Random.Shared.Next(1, 255)}";

    public static async Task<HttpResponseMessage> LoginAsync(ChatApp app, string login, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login")
        {
            Content = JsonContent.Create(new { username = login, password }),
        };
        request.Headers.Add("X-Forwarded-For", NewClientIp());
        return await app.Http.SendAsync(request);
    }

    /// <summary><paramref name="count"/> wrong passwords, each answered 401.</summary>
    public static async Task SpendBudgetAsync(ChatApp app, string login, int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await LoginAsync(app, login, $"wrong password {i}");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    public static async Task AssertTooManyAsync(HttpResponseMessage response, int maxRetryAfter = 900)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.InRange(int.Parse(Assert.Single(response.Headers.GetValues("Retry-After"))), 1, maxRetryAfter);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.DoesNotContain("accessToken", problem.GetRawText(), StringComparison.Ordinal);
    }
}
