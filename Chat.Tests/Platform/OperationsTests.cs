using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Chat.Api.Platform;
using Chat.Tests.Fixtures;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Tests.Platform;

[Collection(MySqlRedisChat.Name)]
public sealed class OperationsTests(MySqlRedisChat chat)
{
    private ChatApp App => chat.App;

    [Fact]
    public async Task Liveness_and_readiness_answer_200_while_MySQL_and_Redis_answer()
    {
        Assert.Equal(HttpStatusCode.OK, (await App.Http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.Http.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task Readiness_is_503_when_the_database_stops_answering_and_200_when_it_is_back()
    {
        await using var database = await ProxiedDatabase.CreateAsync();
        var proxy = database.Proxy;
        await using var app = ChatApp.Start(database.Settings);
        Assert.Equal(HttpStatusCode.OK, (await app.Http.GetAsync("/health/ready")).StatusCode);

        proxy.Stop();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await app.Http.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Http.GetAsync("/health/live")).StatusCode);

        proxy.Resume();
        await Eventually.TrueAsync(async () => (await app.Http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK);
    }

    [Fact]
    public async Task Readiness_is_503_when_Redis_stops_answering_and_200_when_it_is_back()
    {
        await using var proxy = await TcpProxy.ForSharedRedisAsync();
        var database = $"chat_{Guid.NewGuid():N}";
        try
        {
            await using var app = ChatApp.Start(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Chat"] = await TestServers.CreateDatabaseAsync(database),
                ["ConnectionStrings:Redis"] = $"127.0.0.1:{proxy.Port}",
            });
            Assert.Equal(HttpStatusCode.OK, (await app.Http.GetAsync("/health/ready")).StatusCode);

            proxy.Stop();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await app.Http.GetAsync("/health/ready")).StatusCode);

            proxy.Resume();
            await Eventually.TrueAsync(
                async () => (await app.Http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK,
                within: TimeSpan.FromSeconds(30));
        }
        finally
        {
            await TestServers.DropDatabaseAsync(database);
        }
    }

    [Fact]
    public async Task Swagger_UI_and_the_OpenAPI_document_describe_the_auth_endpoints()
    {
        Assert.Equal(HttpStatusCode.OK, (await App.Http.GetAsync("/swagger/index.html")).StatusCode);

        using var document = JsonDocument.Parse(await App.Http.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");
        var signup = paths.GetProperty("/api/auth/signup").GetProperty("post");
        Assert.True(signup.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").TryGetProperty("example", out _));
        Assert.True(paths.GetProperty("/api/auth/login").TryGetProperty("post", out _));
        Assert.True(document.RootElement.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("Bearer", out _));
    }

    [Fact]
    public async Task Every_api_endpoint_has_an_example_and_the_protected_ones_ask_for_the_bearer_token()
    {
        using var document = JsonDocument.Parse(await App.Http.GetStringAsync("/openapi/v1.json"));
        var operations = document.RootElement.GetProperty("paths").EnumerateObject()
            .Where(path => path.Name.StartsWith("/api/", StringComparison.Ordinal))
            .SelectMany(path => path.Value.EnumerateObject().Select(op => (Name: $"{op.Name} {path.Name}", Operation: op.Value)))
            .ToList();

        static bool HasExample(JsonElement operation, string part) =>
            operation.TryGetProperty(part, out var element)
            && (part == "requestBody" ? [element] : element.EnumerateObject().Select(r => r.Value))
                .Any(r => r.TryGetProperty("content", out var content) && content.EnumerateObject().Any(c => c.Value.TryGetProperty("example", out _)));

        Assert.Equal(16, operations.Count);
        // Logout everywhere and (un)blocking have neither a body nor an answer to show (204): nothing to exemplify.
        static bool Bodiless(JsonElement operation) =>
            !operation.TryGetProperty("requestBody", out _) && operation.GetProperty("responses").TryGetProperty("204", out _);
        const string LogoutAll = "post /api/auth/logout-all";
        Assert.All(operations.Where(op => !Bodiless(op.Operation)),
            op => Assert.True(HasExample(op.Operation, "requestBody") || HasExample(op.Operation, "responses"), op.Name));
        Assert.All(operations.Where(op => !op.Name.Contains("/api/auth", StringComparison.Ordinal) || op.Name == LogoutAll),
            op => Assert.True(op.Operation.TryGetProperty("security", out _), op.Name));
        Assert.All(operations.Where(op => op.Name.Contains("/api/auth", StringComparison.Ordinal) && op.Name != LogoutAll),
            op => Assert.False(op.Operation.TryGetProperty("security", out _), op.Name));
    }

    [Fact]
    public async Task No_password_or_token_appears_in_any_log_line()
    {
        var alice = await App.CreateUserAsync();
        await using (var connection = await App.ConnectAsync(alice))
        {
            await connection.SendRawAsync($"{alice.Id}:hello");
            await connection.NextMessageAsync();
        }

        await App.LoginAsync(alice.Username, "a wrong password");

        var lines = App.Logs.Lines.ToList();
        Assert.NotEmpty(lines);
        Assert.DoesNotContain(lines, l => l.Contains(alice.Password, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(alice.AccessToken, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(alice.RefreshToken, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("access_token=", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("a wrong password", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Refresh_tokens_are_kept_in_Redis_as_hashes_only()
    {
        var alice = await App.CreateUserAsync();
        var servers = await TestServers.GetAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(servers.Redis);
        var db = redis.GetDatabase();

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(alice.RefreshToken)));
        var entry = await db.HashGetAllAsync(RedisKeys.RefreshToken(hash));

        Assert.Equal(alice.Id, entry.Single(e => e.Name == "user").Value);
        Assert.False(await db.KeyExistsAsync(RedisKeys.RefreshToken(alice.RefreshToken)));
        Assert.NotNull(await db.KeyTimeToLiveAsync(RedisKeys.RefreshToken(hash)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("too short")]
    public void Production_refuses_to_start_without_a_32_byte_signing_key_and_names_the_key(string? key)
    {
        var root = Directory.CreateTempSubdirectory("chat-nokey-").FullName;
        try
        {
            var error = Assert.ThrowsAny<Exception>(() => ChatApp.Start(new Dictionary<string, string?> { ["Jwt:SigningKey"] = key }, root));
            var validation = Assert.IsType<OptionsValidationException>(error.GetBaseException() as OptionsValidationException ?? error);
            Assert.Contains("Jwt:SigningKey", validation.Message);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
