using System.Net;
using Chat.Tests.Fixtures;

namespace Chat.Tests.Messaging;

/// <summary>Negotiating a hub connection counts against the per-user cap, across instances: one token cannot pile up connection state.</summary>
[Collection(MySqlRedisChat.Name)]
public sealed class NegotiationCapTests(MySqlRedisChat chat)
{
    private static readonly Dictionary<string, string?> CapOfThree = new() { ["Hub:MaxConnectionsPerUser"] = "3" };

    private static Task<HttpResponseMessage> NegotiateAsync(ChatApp app, TestUser user) =>
        app.Http.SendAsync(app.Authorized(HttpMethod.Post, "/hubs/chat/negotiate?negotiateVersion=1", user.AccessToken));

    [Fact]
    public async Task A_negotiate_beyond_the_cap_counting_connections_negotiated_but_not_started_is_a_429_problem()
    {
        await using var one = chat.StartInstance(CapOfThree);
        await using var two = chat.StartInstance(CapOfThree);
        var user = await one.CreateUserAsync();

        Assert.Equal(HttpStatusCode.OK, (await NegotiateAsync(one, user)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await NegotiateAsync(two, user)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await NegotiateAsync(one, user)).StatusCode);
        var refused = await NegotiateAsync(two, user);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.True(refused.Headers.RetryAfter is not null);
    }

    [Fact]
    public async Task A_started_connection_spends_its_reservation_and_live_ones_count()
    {
        await using var app = chat.StartInstance(CapOfThree);
        var user = await app.CreateUserAsync();
        await using var first = await app.ConnectAsync(user);
        await using var second = await app.ConnectAsync(user);
        await Eventually.TrueAsync(async () => await app.ConnectionsOfAsync(user.Id) == 2);

        Assert.Equal(HttpStatusCode.OK, (await NegotiateAsync(app, user)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await NegotiateAsync(app, user)).StatusCode);
    }
}
