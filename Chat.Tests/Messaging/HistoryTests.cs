using System.Net;
using Chat.Domain.Messaging;
using Chat.Tests.Fixtures;
using static Chat.Tests.Messaging.MessagingTestKit;

namespace Chat.Tests.Messaging;

/// <summary>"Messages (v2)", <c>GET /api/conversations/{peerId}/messages</c>: pages both ways, limits and cursors.</summary>
public abstract class HistoryTests(ChatApp app)
{
    /// <summary>Alice and Bob, and five messages between them, both ways, in stored order.</summary>
    private async Task<(TestUser Alice, TestUser Bob, List<ChatMessage> Sent)> ConversationOfFiveAsync()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var sent = await ConverseAsync((aliceConnection, alice), (bobConnection, bob), "m1", "m2", "m3", "m4", "m5");
        return (alice, bob, sent);
    }

    private static string Path(TestUser peer, string query = "") => $"/api/conversations/{peer.Id}/messages{query}";

    [Fact]
    public async Task Without_a_cursor_history_is_the_newest_page_oldest_first_the_same_for_both_users()
    {
        var (alice, bob, sent) = await ConversationOfFiveAsync();

        foreach (var (user, peer, query) in new[] { (alice, bob, ""), (bob, alice, ""), (alice, bob, "?limit=5"), (bob, alice, "?limit=100") })
        {
            var all = await app.HistoryAsync(user, peer.Id, query);
            Assert.Equal(sent, all.Messages);
            Assert.False(all.HasMore);
        }

        var newest = await app.HistoryAsync(alice, bob.Id, "?limit=2");
        Assert.Equal(sent[3..], newest.Messages);
        Assert.True(newest.HasMore);
        var one = await app.HistoryAsync(bob, alice.Id, "?limit=1");
        Assert.Equal([sent[4]], one.Messages);
        Assert.True(one.HasMore);
    }

    [Fact]
    public async Task Before_pages_back_to_the_oldest_and_hasMore_says_whether_older_ones_remain()
    {
        var (alice, bob, sent) = await ConversationOfFiveAsync();

        var page = await app.HistoryAsync(alice, bob.Id, $"?limit=2&before={sent[3].Id}");
        Assert.Equal(sent[1..3], page.Messages);
        Assert.True(page.HasMore);

        page = await app.HistoryAsync(alice, bob.Id, $"?limit=2&before={sent[1].Id}");
        Assert.Equal([sent[0]], page.Messages);
        Assert.False(page.HasMore);

        // Exactly the rest: nothing beyond it.
        page = await app.HistoryAsync(bob, alice.Id, $"?limit=2&before={sent[2].Id}");
        Assert.Equal(sent[..2], page.Messages);
        Assert.False(page.HasMore);

        page = await app.HistoryAsync(bob, alice.Id, $"?before={sent[0].Id}");
        Assert.Empty(page.Messages);
        Assert.False(page.HasMore);
    }

    [Fact]
    public async Task After_pages_forward_to_the_newest_and_hasMore_says_whether_newer_ones_remain()
    {
        var (alice, bob, sent) = await ConversationOfFiveAsync();

        var page = await app.HistoryAsync(alice, bob.Id, $"?limit=2&after={sent[0].Id}");
        Assert.Equal(sent[1..3], page.Messages);
        Assert.True(page.HasMore);

        page = await app.HistoryAsync(bob, alice.Id, $"?limit=2&after={sent[2].Id}");
        Assert.Equal(sent[3..], page.Messages);
        Assert.False(page.HasMore);

        page = await app.HistoryAsync(bob, alice.Id, $"?limit=3&after={sent[3].Id}");
        Assert.Equal([sent[4]], page.Messages);
        Assert.False(page.HasMore);

        page = await app.HistoryAsync(alice, bob.Id, $"?after={sent[4].Id}");
        Assert.Empty(page.Messages);
        Assert.False(page.HasMore);
    }

    [Fact]
    public async Task Paging_back_with_before_from_the_newest_page_gives_every_message_once_in_stored_order()
    {
        var (alice, bob, sent) = await ConversationOfFiveAsync();

        var collected = new List<ChatMessage>();
        var page = await app.HistoryAsync(alice, bob.Id, "?limit=2");
        collected.InsertRange(0, page.Messages);
        while (page.HasMore)
        {
            Assert.NotEmpty(page.Messages);
            page = await app.HistoryAsync(alice, bob.Id, $"?limit=2&before={collected[0].Id}");
            collected.InsertRange(0, page.Messages);
        }

        Assert.Equal(sent, collected);
    }

    public static TheoryData<string> BadLimits => new() { "0", "101", "abc", "-1", "1.5" };

    [Theory]
    [MemberData(nameof(BadLimits))]
    public async Task A_limit_that_is_not_1_to_100_is_a_400_problem(string limit)
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();

        await app.AssertProblemAsync(alice, Path(bob, $"?limit={Uri.EscapeDataString(limit)}"), HttpStatusCode.BadRequest, "limit");
    }

    [Fact]
    public async Task Before_and_after_together_are_a_400_problem()
    {
        var (alice, bob, sent) = await ConversationOfFiveAsync();

        await app.AssertProblemAsync(alice, Path(bob, $"?before={sent[3].Id}&after={sent[1].Id}"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_before_or_after_that_is_not_a_message_of_this_conversation_is_a_400_problem()
    {
        var (alice, bob, _) = await ConversationOfFiveAsync();
        var carol = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        var toCarol = await aliceConnection.SendAsync(carol.Id, "another conversation");

        foreach (var cursor in new[] { toCarol.Id, "nosuchmessage" })
        {
            await app.AssertProblemAsync(alice, Path(bob, $"?before={cursor}"), HttpStatusCode.BadRequest, "before");
            await app.AssertProblemAsync(alice, Path(bob, $"?after={cursor}"), HttpStatusCode.BadRequest, "after");
        }
    }

    [Fact]
    public async Task History_with_no_such_user_is_a_404_problem()
    {
        var alice = await app.CreateUserAsync();

        await app.AssertProblemAsync(alice, "/api/conversations/nosuchuser/messages", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task History_with_a_user_who_shares_no_message_with_the_caller_is_empty()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();

        var page = await app.GetJsonAsync(alice, Path(bob));

        Assert.Equal(["hasMore", "messages"], FieldsOf(page));
        Assert.Empty(page.GetProperty("messages").EnumerateArray());
        Assert.False(page.GetProperty("hasMore").GetBoolean());
    }

    [Fact]
    public async Task Without_a_limit_history_gives_the_newest_50_and_sync_the_first_100_and_the_largest_limits_are_allowed()
    {
        var alice = await app.CreateUserAsync();
        await using var connection = await app.ConnectAsync(alice);
        // Queued on one connection, handled one after the other: stored in this order.
        var receipts = await Task.WhenAll(Enumerable.Range(0, 101).Select(i => connection.SendAsync(alice.Id, $"note {i}")));
        var ids = receipts.Select(r => r.Id).ToList();

        var history = await app.HistoryAsync(alice, alice.Id);
        Assert.Equal(ids[^50..], history.Messages.Select(m => m.Id));
        Assert.True(history.HasMore);
        history = await app.HistoryAsync(alice, alice.Id, "?limit=100");
        Assert.Equal(ids[^100..], history.Messages.Select(m => m.Id));
        Assert.True(history.HasMore);

        var sync = await app.GetOkAsync<SyncBody>(alice, "/api/sync");
        Assert.Equal(ids[..100], sync.Messages.Select(m => m.Id));
        Assert.True(sync.HasMore);
        sync = await app.SyncAsync(alice, limit: 1000);
        Assert.Equal(ids, sync.Messages.Select(m => m.Id));
        Assert.False(sync.HasMore);
    }
}

[Collection(MySqlRedisChat.Name)]
public sealed class HistoryOnMySqlAndRedisTests(MySqlRedisChat chat) : HistoryTests(chat.App);

[Collection(EmbeddedChat.Name)]
public sealed class HistoryEmbeddedTests(EmbeddedChat chat) : HistoryTests(chat.App);
