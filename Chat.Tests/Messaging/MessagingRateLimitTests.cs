using System.Net;
using Chat.Domain.Messaging;
using Chat.Tests.Fixtures;
using Microsoft.AspNetCore.SignalR;
using static Chat.Tests.Messaging.MessagingTestKit;

namespace Chat.Tests.Messaging;

/// <summary>
/// "Messages (v2)", limits: the reads share one budget per user; <c>Send</c> and <c>SendRaw</c> share the message
/// limit, and the other hub methods have limits of their own. Each test starts an instance with its own settings.
/// </summary>
public abstract class MessagingRateLimitTests
{
    protected abstract OwnInstance Start(Dictionary<string, string?> settings);

    private static Dictionary<string, string?> ReadLimit(int permits) => new()
    {
        ["RateLimiting:Reads:PermitLimit"] = permits.ToString(),
        ["RateLimiting:Reads:WindowSeconds"] = "60",
    };

    private static string[] Reads(TestUser peer) =>
    [
        "/api/conversations",
        $"/api/conversations/{peer.Id}/messages",
        "/api/sync",
        "/api/users/search?q=ab",
        "/api/users/online",
    ];

    private static async Task AssertLimitedAsync(ChatApp app, TestUser user, string path)
    {
        using var response = await app.GetAsync(user, path);
        await AssertProblemAsync(response, HttpStatusCode.TooManyRequests);
        var retryAfter = int.Parse(Assert.Single(response.Headers.GetValues("Retry-After")));
        Assert.InRange(retryAfter, 1, 60);
    }

    [Fact]
    public async Task Conversations_history_sync_search_and_online_share_one_budget_per_user_and_beyond_it_answer_429_with_Retry_After()
    {
        await using var instance = Start(ReadLimit(5));
        var app = instance.App;
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();

        foreach (var path in Reads(bob))
        {
            using var response = await app.GetAsync(alice, path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        foreach (var path in Reads(bob))
        {
            await AssertLimitedAsync(app, alice, path);
        }

        // Alice's budget, not everyone's.
        foreach (var path in Reads(alice))
        {
            using var response = await app.GetAsync(bob, path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Theory]
    [InlineData("/api/conversations")]
    [InlineData("/api/conversations/PEER/messages")]
    [InlineData("/api/sync")]
    [InlineData("/api/users/search?q=ab")]
    [InlineData("/api/users/online")]
    public async Task Each_read_counts_against_the_budget(string path)
    {
        await using var instance = Start(ReadLimit(2));
        var app = instance.App;
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        path = path.Replace("PEER", bob.Id);

        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync(alice, path)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync(alice, path)).StatusCode);

        // The third call of this one read exhausts the budget of every read.
        await AssertLimitedAsync(app, alice, path);
        await AssertLimitedAsync(app, alice, path == "/api/sync" ? "/api/conversations" : "/api/sync");
    }

    [Fact]
    public async Task Send_and_SendRaw_share_the_message_limit_and_refused_calls_count_too()
    {
        await using var instance = Start(new Dictionary<string, string?>
        {
            ["RateLimiting:Messages:PermitsPerSecond"] = "1",
            ["RateLimiting:Messages:Burst"] = "3",
        });
        var app = instance.App;
        var alice = await app.CreateUserAsync();
        await using var connection = await app.ConnectAsync(alice);

        // Refused for their input (no database work, so fast), Sends still spend tokens: they run into the limit.
        async Task<bool> SpendAllWithRefusedSendsAsync()
        {
            for (var i = 0; i < 100; i++)
            {
                try
                {
                    await connection.SendAsync(alice.Id, " ");
                }
                catch (HubException ex) when (ex.Message.Contains("rate limit", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
                catch (HubException ex)
                {
                    Assert.Contains("empty", ex.Message, StringComparison.OrdinalIgnoreCase);
                }
            }

            return false;
        }

        Assert.True(await SpendAllWithRefusedSendsAsync(), "100 refused Sends in a row never met the limit (burst 3, 1/s): refused calls do not count.");

        // Right after Send met the limit, SendRaw meets it too. The bucket refills (1/s) between any two calls, so on a
        // slow machine a token may come back in between: the test asks for it to happen at least once in a few tries.
        // Separate budgets would never refuse that SendRaw.
        await Eventually.TrueAsync(async () =>
        {
            Assert.True(await SpendAllWithRefusedSendsAsync());
            try
            {
                await connection.SendRawAsync($"{alice.Id}:right after");
                return false;
            }
            catch (HubException ex) when (ex.Message.Contains("rate limit", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }, TimeSpan.FromSeconds(30), "SendRaw was never refused right after Send had spent the budget: they do not share it.");

        // The connection stays open: once the bucket refills, sends work again.
        SendReceipt? later = null;
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                later = await connection.SendAsync(alice.Id, "later");
                return true;
            }
            catch (HubException ex) when (ex.Message.Contains("rate limit", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        });
        Assert.Equal(later!.Id, (await app.SyncAsync(alice)).Messages[^1].Id);
    }

    [Fact]
    public async Task MarkRead_has_a_limit_of_its_own_and_spending_it_leaves_the_message_budget_whole()
    {
        await using var instance = Start(new Dictionary<string, string?>
        {
            ["RateLimiting:Messages:PermitsPerSecond"] = "1",
            ["RateLimiting:Messages:Burst"] = "2",
        });
        var app = instance.App;
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var message = await bobConnection.SendAsync(alice.Id, "read me");

        // MarkRead as fast as Alice can, until its own limit (whatever it is) refuses her, or 50 times.
        for (var i = 0; i < 50; i++)
        {
            try
            {
                await aliceConnection.MarkReadAsync(bob.Id, message.Id);
            }
            catch (HubException ex) when (ex.Message.Contains("rate limit", StringComparison.OrdinalIgnoreCase))
            {
                break;
            }
        }

        // Alice has sent nothing: her message budget (burst 2) is whole, whatever MarkRead spent.
        SendReceipt first, second;
        try
        {
            first = await aliceConnection.SendAsync(bob.Id, "first");
            second = await aliceConnection.SendAsync(bob.Id, "second");
        }
        catch (HubException ex)
        {
            Assert.Fail($"Alice had sent nothing, yet after her MarkRead calls her Send was refused: MarkRead spent her message budget. {ex.Message}");
            throw;
        }

        Assert.Equal([message.Id, first.Id, second.Id], (await app.HistoryAsync(alice, bob.Id)).Messages.Select(m => m.Id));
    }
}

[Collection(MySqlRedisChat.Name)]
public sealed class MessagingRateLimitOnMySqlAndRedisTests(MySqlRedisChat chat) : MessagingRateLimitTests
{
    protected override OwnInstance Start(Dictionary<string, string?> settings) => OwnInstance.On(chat, settings);
}

[Collection(EmbeddedChat.Name)]
public sealed class MessagingRateLimitEmbeddedTests : MessagingRateLimitTests
{
    protected override OwnInstance Start(Dictionary<string, string?> settings) => OwnInstance.Embedded(settings);
}
