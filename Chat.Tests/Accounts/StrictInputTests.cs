using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Chat.Api.Platform.Persistence;
using Chat.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Accounts;

/// <summary>What the auth endpoints refuse before doing any work: names that are not exact, identifiers too long.</summary>
[Collection(MySqlRedisChat.Name)]
public sealed class StrictInputTests(MySqlRedisChat chat)
{
    private ChatApp App => chat.App;

    private static string NewName() => $"in_{Guid.NewGuid():N}"[..20];

    private static async Task<JsonElement> ErrorsOf(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData(" ")]
    [InlineData("\t")]
    public async Task A_username_with_a_trailing_newline_or_space_is_a_400_and_is_never_stored(string trailing)
    {
        var name = NewName();

        var response = await App.SignupAsync(name + trailing, $"{name}@example.com", "password123");

        Assert.True((await ErrorsOf(response)).TryGetProperty("username", out _));
        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        Assert.False(await db.Users.AnyAsync(u => u.Username.StartsWith(name)));
        Assert.Equal(HttpStatusCode.Created, (await App.SignupAsync(name, $"{name}@example.com", "password123")).StatusCode);
    }

    [Fact]
    public async Task A_login_identifier_over_254_characters_is_a_400_naming_the_username()
    {
        var tooLong = await App.LoginAsync(new string('a', 243) + "@example.com", "password123");
        Assert.True((await ErrorsOf(tooLong)).TryGetProperty("username", out _));

        var longest = await App.LoginAsync(new string('a', 242) + "@example.com", "password123");
        Assert.Equal(HttpStatusCode.Unauthorized, longest.StatusCode);
    }
}
