using System.Net;
using Chat.Tests.Fixtures;

namespace Chat.Tests.Accounts;

[Collection(MySqlRedisChat.Name)]
public sealed class TokenValidationTests(MySqlRedisChat chat)
{
    private ChatApp App => chat.App;

    public static TheoryData<string> BadTokens => ["another key", "expired", "alg none", "wrong audience", "garbage"];

    private static string Make(string kind, string userId) => kind switch
    {
        "another key" => TestTokens.SignedWithAnotherKey(userId),
        "expired" => TestTokens.Expired(userId),
        "alg none" => TestTokens.Unsigned(userId),
        "wrong audience" => TestTokens.Signed(userId, ChatApp.SigningKey, DateTime.UtcNow.AddMinutes(10), audience: "someone-else"),
        _ => "not.a.token",
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_bad_access_token_is_refused_over_HTTP(string kind)
    {
        var user = await App.CreateUserAsync();

        var response = await App.GetAsync("/api/users/me", Make(kind, user.Id));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_bad_access_token_is_refused_by_the_hub(string kind)
    {
        var user = await App.CreateUserAsync();

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => App.ConnectAsync(Make(kind, user.Id)));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
    }

    [Fact]
    public async Task A_token_minted_with_the_configured_key_is_accepted_on_both()
    {
        var user = await App.CreateUserAsync();
        var token = TestTokens.Signed(user.Id, ChatApp.SigningKey, DateTime.UtcNow.AddMinutes(10));

        var response = await App.GetAsync("/api/users/me", token);
        await using var connection = await App.ConnectAsync(token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_query_string_token_is_read_only_on_the_hub_path()
    {
        var user = await App.CreateUserAsync();

        var response = await App.Http.GetAsync($"/api/users/me?access_token={user.AccessToken}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task The_hub_accepts_the_token_as_a_bearer_header_too()
    {
        var user = await App.CreateUserAsync();

        await using var connection = await App.ConnectAsync(user.AccessToken, useHeader: true);
        var receipt = await connection.SendRawAsync($"{user.Id}:hello me");

        Assert.Equal(user.Id, receipt.ReceiverId);
    }
}
