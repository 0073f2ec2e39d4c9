using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Chat.Api.Platform.Persistence;
using Chat.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Accounts;

/// <summary>What the auth endpoints refuse before doing any work: names that are not exact, identifiers and bodies too long.</summary>
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

    [Fact]
    public async Task A_20_KB_login_body_is_a_413_problem_with_a_Content_Length()
    {
        var body = LoginBody(20 * 1024);
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");

        var response = await App.Http.PostAsync("/api/auth/login", content);

        await AssertTooLargeAsync(response);
    }

    [Fact]
    public async Task A_20_KB_login_body_is_a_413_problem_when_chunked_without_a_Content_Length()
    {
        using var content = new StreamContent(new UnseekableStream(LoginBody(20 * 1024)));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await App.Http.SendAsync(request);

        Assert.Null(response.RequestMessage?.Content?.Headers.ContentLength);
        await AssertTooLargeAsync(response);
    }

    [Fact]
    public async Task A_body_of_16_KiB_exactly_is_read_and_answered()
    {
        using var content = new ByteArrayContent(LoginBody(16 * 1024));
        content.Headers.ContentType = new("application/json");

        var response = await App.Http.PostAsync("/api/auth/login", content);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static async Task AssertTooLargeAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(413, problem.GetProperty("status").GetInt32());
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        // The server reads no further: a client that sent its next request on this connection would lose it.
        Assert.True(response.Headers.ConnectionClose);
    }

    /// <summary>A valid login request (of nobody) padded with a long unknown property to exactly <paramref name="size"/> bytes.</summary>
    private static byte[] LoginBody(int size)
    {
        const string start = "{\"username\":\"nobody_at_all\",\"password\":\"password123\",\"padding\":\"";
        const string end = "\"}";
        var body = start + new string('x', size - start.Length - end.Length) + end;
        var bytes = Encoding.UTF8.GetBytes(body);
        Assert.Equal(size, bytes.Length);
        return bytes;
    }

    /// <summary>A body whose length the client cannot know in advance, so it goes chunked.</summary>
    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
