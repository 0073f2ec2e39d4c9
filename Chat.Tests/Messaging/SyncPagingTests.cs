using System.Net;
using Chat.Domain.Messaging;
using Chat.Tests.Fixtures;
using static Chat.Tests.Messaging.MessagingTestKit;

namespace Chat.Tests.Messaging;

/// <summary>
/// "Messages (v2)", <c>GET /api/sync</c> from one client's side: from the start, the cursor, pages, limits. (That sync
/// stays exactly-once while several instances store at the same time is proven on its own.)
/// </summary>
public abstract class SyncPagingTests(ChatApp app)
{
    [Fact]
    public async Task Sync_without_a_cursor_gives_every_message_sent_or_received_from_the_very_first_in_stored_order()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        var carol = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        await using var carolConnection = await app.ConnectAsync(carol);

        var expected = new List<ChatMessage>
        {
            MessageOf(await aliceConnection.SendAsync(bob.Id, "alice to bob", "k1"), alice.Id, "alice to bob"),
            MessageOf(await bobConnection.SendAsync(alice.Id, "bob to alice"), bob.Id, "bob to alice"),
            MessageOf(await aliceConnection.SendRawAsync($"{alice.Id}:alice to herself"), alice.Id, "alice to herself"),
            MessageOf(await carolConnection.SendAsync(alice.Id, "carol to alice"), carol.Id, "carol to alice"),
        };
        await bobConnection.SendAsync(carol.Id, "bob to carol: not alice's");

        var sync = await app.SyncAsync(alice);

        Assert.Equal(expected, sync.Messages);
        Assert.False(sync.HasMore);
        Assert.False(string.IsNullOrEmpty(sync.Cursor));
        var json = await app.GetJsonAsync(alice, "/api/sync");
        Assert.Equal(["cursor", "hasMore", "messages"], FieldsOf(json));
        Assert.All(json.GetProperty("messages").EnumerateArray(), AssertIsMessage);
    }

    [Fact]
    public async Task Every_answer_has_a_cursor_also_an_empty_one_and_the_next_sync_gives_only_what_came_after_it()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var bobConnection = await app.ConnectAsync(bob);

        var empty = await app.SyncAsync(alice);
        Assert.Empty(empty.Messages);
        Assert.False(empty.HasMore);
        Assert.False(string.IsNullOrEmpty(empty.Cursor));

        var first = await bobConnection.SendAsync(alice.Id, "first");
        var page = await app.SyncAsync(alice, empty.Cursor);
        Assert.Equal([first.Id], page.Messages.Select(m => m.Id));
        Assert.False(page.HasMore);

        var nothingNew = await app.SyncAsync(alice, page.Cursor);
        Assert.Empty(nothingNew.Messages);
        Assert.False(nothingNew.HasMore);
        Assert.False(string.IsNullOrEmpty(nothingNew.Cursor));

        var second = await bobConnection.SendAsync(alice.Id, "second");
        var third = await bobConnection.SendAsync(alice.Id, "third");
        Assert.Equal([second.Id, third.Id], (await app.SyncAsync(alice, nothingNew.Cursor)).Messages.Select(m => m.Id));
        Assert.Equal([second.Id, third.Id], (await app.SyncAsync(alice, page.Cursor)).Messages.Select(m => m.Id));
    }

    [Fact]
    public async Task Syncing_page_by_page_with_each_answers_cursor_gives_every_message_exactly_once_and_hasMore_only_with_a_message()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var sent = await ConverseAsync((aliceConnection, alice), (bobConnection, bob), "1", "2", "3", "4", "5", "6", "7");

        foreach (var limit in new[] { 1, 2, 3, 7 })
        {
            var collected = new List<ChatMessage>();
            string? cursor = null;
            SyncBody page;
            do
            {
                page = await app.SyncAsync(alice, cursor, limit);
                Assert.InRange(page.Messages.Count, page.HasMore ? 1 : 0, limit);
                collected.AddRange(page.Messages);
                cursor = page.Cursor;
            }
            while (page.HasMore);

            Assert.Equal(sent, collected);
            Assert.Equal(sent, await app.SyncAllAsync(bob, limit));
        }
    }

    public static TheoryData<string> BadLimits => new() { "0", "1001", "abc", "-1" };

    [Theory]
    [MemberData(nameof(BadLimits))]
    public async Task A_limit_that_is_not_1_to_1000_is_a_400_problem(string limit)
    {
        var alice = await app.CreateUserAsync();

        await app.AssertProblemAsync(alice, $"/api/sync?limit={limit}", HttpStatusCode.BadRequest, "limit");
    }

    public static TheoryData<string> MalformedCursors => new() { "abc", "-1", "1.5", "99999999999999999999999", "12abc" };

    [Theory]
    [MemberData(nameof(MalformedCursors))]
    public async Task A_malformed_cursor_is_a_400_problem(string cursor)
    {
        var alice = await app.CreateUserAsync();

        await app.AssertProblemAsync(alice, $"/api/sync?after={Uri.EscapeDataString(cursor)}", HttpStatusCode.BadRequest, "after");
    }
}

[Collection(MySqlRedisChat.Name)]
public sealed class SyncPagingOnMySqlAndRedisTests(MySqlRedisChat chat) : SyncPagingTests(chat.App);

[Collection(EmbeddedChat.Name)]
public sealed class SyncPagingEmbeddedTests(EmbeddedChat chat) : SyncPagingTests(chat.App);
