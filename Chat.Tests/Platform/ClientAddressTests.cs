using System.Net;
using System.Net.Http.Json;
using Chat.Api.Platform.RateLimiting;
using Chat.Tests.Fixtures;

namespace Chat.Tests.Platform;

/// <summary>
/// Whose auth budget a client spends. The addresses arrive as X-Forwarded-For, believed because the test client is on
/// loopback, a trusted proxy by default; each test draws its own random ones, so tests sharing Redis never share a budget.
/// </summary>
[Collection(MySqlRedisChat.Name)]
public sealed class ClientAddressTests(MySqlRedisChat chat)
{
    private static Dictionary<string, string?> AuthLimit(int permits) => new()
    {
        ["RateLimiting:Auth:PermitLimit"] = permits.ToString(),
        ["RateLimiting:Auth:WindowSeconds"] = "60",
    };

    private static string RandomIPv4() => $"10.{Random.Shared.Next(256)}.{Random.Shared.Next(256)}.{Random.Shared.Next(1, 255)}";

    /// <summary>The first 64 bits of a random documentation-range (2001:db8::/32) IPv6 address.</summary>
    private static string RandomIPv6Prefix() => $"2001:db8:{Random.Shared.Next(0x10000):x}:{Random.Shared.Next(0x10000):x}";

    /// <summary>An auth call that needs neither the database nor Redis: an invalid signup (400) still counts.</summary>
    private static async Task<HttpStatusCode> AuthCallAsync(ChatApp app, string clientIp)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/signup") { Content = JsonContent.Create(new { }) };
        request.Headers.Add("X-Forwarded-For", clientIp);
        using var response = await app.Http.SendAsync(request);
        return response.StatusCode;
    }

    [Theory]
    [InlineData("10.1.2.3", "10.1.2.3")]
    [InlineData("::ffff:10.1.2.3", "10.1.2.3")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:3::1", "2001:db8:1:3::/64")]
    [InlineData("::1", "::/64")]
    public void An_address_spends_the_budget_of_its_IPv4_address_or_of_its_IPv6_64(string address, string partition) =>
        Assert.Equal(partition, ClientAddress.PartitionKey(IPAddress.Parse(address)));

    [Fact]
    public async Task An_IPv4_mapped_IPv6_address_spends_the_budget_of_its_IPv4_address()
    {
        await using var app = chat.StartInstance(AuthLimit(3));
        var ipv4 = RandomIPv4();

        Assert.Equal(HttpStatusCode.BadRequest, await AuthCallAsync(app, ipv4));
        Assert.Equal(HttpStatusCode.BadRequest, await AuthCallAsync(app, $"::ffff:{ipv4}"));
        Assert.Equal(HttpStatusCode.BadRequest, await AuthCallAsync(app, ipv4));

        Assert.Equal(HttpStatusCode.TooManyRequests, await AuthCallAsync(app, $"::ffff:{ipv4}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await AuthCallAsync(app, ipv4));
    }

    [Fact]
    public async Task IPv6_clients_of_one_64_share_one_budget_and_another_64_has_its_own()
    {
        await using var app = chat.StartInstance(AuthLimit(3));
        var prefix = RandomIPv6Prefix();

        Assert.Equal(HttpStatusCode.BadRequest, await AuthCallAsync(app, $"{prefix}::1"));
        Assert.Equal(HttpStatusCode.BadRequest, await AuthCallAsync(app, $"{prefix}:1:2:3:4"));
        Assert.Equal(HttpStatusCode.BadRequest, await AuthCallAsync(app, $"{prefix}:ffff:ffff:ffff:ffff"));

        Assert.Equal(HttpStatusCode.TooManyRequests, await AuthCallAsync(app, $"{prefix}::abcd"));
        Assert.Equal(HttpStatusCode.BadRequest, await AuthCallAsync(app, $"{RandomIPv6Prefix()}::1"));
    }
}
