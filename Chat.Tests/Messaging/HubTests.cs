using Chat.Tests.Fixtures;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Chat.Tests.Messaging;

/// <summary>The hub's contract, run against every way Chat can be deployed.</summary>
public abstract class HubTests(ChatApp app)
{
    [Fact]
    public async Task A_message_containing_colons_reaches_the_receiver_exactly_as_sent()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);

        var receipt = await aliceConnection.SendRawAsync($"{bob.Id}: meet at 10:30: the usual place ");
        var message = await bobConnection.NextMessageAsync();

        Assert.Equal(" meet at 10:30: the usual place ", message.Text);
        Assert.Equal(alice.Id, message.SenderId);
        Assert.Equal(bob.Id, message.ReceiverId);
        Assert.Equal(receipt.Id, message.Id);
        Assert.Equal(receipt.SentAt, message.SentAt);
        Assert.Equal(bob.Id, receipt.ReceiverId);
    }

    [Fact]
    public async Task Every_connection_of_the_receiver_gets_the_message_and_the_sender_gets_no_copy()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobPhone = await app.ConnectAsync(bob);
        await using var bobLaptop = await app.ConnectAsync(bob);

        await aliceConnection.SendRawAsync($"{bob.Id}:hi both");
        Assert.Equal("hi both", (await bobPhone.NextMessageAsync()).Text);
        Assert.Equal("hi both", (await bobLaptop.NextMessageAsync()).Text);

        // One connection's messages arrive in order: had Alice been sent a copy, it would come before this one.
        await aliceConnection.SendRawAsync($"{alice.Id}:note to self");
        Assert.Equal("note to self", (await aliceConnection.NextMessageAsync()).Text);
    }

    [Fact]
    public async Task The_sender_is_the_token_user_whatever_the_payload_says()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);

        await aliceConnection.SendRawAsync($"{bob.Id}:{bob.Id}:pretending to be bob");

        var message = await bobConnection.NextMessageAsync();
        Assert.Equal(alice.Id, message.SenderId);
        Assert.Equal($"{bob.Id}:pretending to be bob", message.Text);
    }

    [Fact]
    public async Task An_offline_receiver_is_not_an_error()
    {
        var alice = await app.CreateUserAsync();
        var offline = await app.CreateUserAsync();
        await using var connection = await app.ConnectAsync(alice);

        var receipt = await connection.SendRawAsync($"{offline.Id}:are you there?");

        Assert.Equal(32, receipt.Id.Length);
        Assert.Equal(offline.Id, receipt.ReceiverId);
    }

    [Fact]
    public async Task Message_ids_are_unique_and_sort_in_sending_order()
    {
        var alice = await app.CreateUserAsync();
        await using var connection = await app.ConnectAsync(alice);

        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add((await connection.SendRawAsync($"{alice.Id}:{i}")).Id);
        }

        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "no separator", "receiverId:message" },
        { ":empty receiver", "receiver" },
        { "RECEIVER:", "message" },
        { "RECEIVER:   ", "message" },
        { "nosuchuser:hello", "Unknown receiver" },
        { "RECEIVER:" + new string('x', 4097), "4096" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_is_a_HubException_and_the_connection_keeps_working(string raw, string mentioned)
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);

        var error = await Assert.ThrowsAsync<HubException>(() => aliceConnection.SendRawAsync(raw.Replace("RECEIVER", bob.Id)));
        Assert.Contains(mentioned, error.Message, StringComparison.OrdinalIgnoreCase);

        await aliceConnection.SendRawAsync($"{bob.Id}:still here");
        Assert.Equal("still here", (await bobConnection.NextMessageAsync()).Text);
    }

    [Fact]
    public async Task Unknown_methods_and_wrong_arguments_are_clear_errors_until_a_flood_of_them_closes_the_connection()
    {
        var alice = await app.CreateUserAsync();
        await using var connection = await app.ConnectAsync(alice);

        // A few mistakes: each a clear error, and the connection keeps working.
        var unknown = await Assert.ThrowsAsync<HubException>(() => connection.Hub.InvokeAsync<object?>("SendEverything", "x"));
        Assert.Contains("SendEverything", unknown.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<HubException>(() => connection.Hub.InvokeAsync<object?>("SendRaw", "a", "b", "c"));
        Assert.Equal(alice.Id, (await connection.SendRawAsync($"{alice.Id}:still fine")).ReceiverId);

        // A flood of them spends the connection's budget: the server closes it and says why.
        for (var i = 0; i < 100 && !connection.Closed.IsCompleted; i++)
        {
            try
            {
                await connection.Hub.InvokeAsync<object?>("NoSuchMethod");
            }
            catch (Exception ex) when (ex is HubException or InvalidOperationException or TaskCanceledException)
            {
            }
        }

        var closed = await connection.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("Too many invalid invocations", closed?.Message, StringComparison.Ordinal);

        // Other connections of the user are not affected.
        await using var another = await app.ConnectAsync(alice);
        Assert.Equal(alice.Id, (await another.SendRawAsync($"{alice.Id}:a new connection")).ReceiverId);
    }

    public static TheoryData<object?> NonStrings => new() { 42, true, new[] { "a:b" }, new { receiverId = "a", text = "b" }, null };

    [Theory]
    [MemberData(nameof(NonStrings))]
    public async Task A_non_string_argument_is_a_clear_HubException_and_the_connection_keeps_working(object? raw)
    {
        var alice = await app.CreateUserAsync();
        await using var connection = await app.ConnectAsync(alice);

        var error = await Assert.ThrowsAsync<HubException>(() => connection.SendRawAsync(raw));
        Assert.Contains("string", error.Message, StringComparison.OrdinalIgnoreCase);

        Assert.Equal(alice.Id, (await connection.SendRawAsync($"{alice.Id}:ok")).ReceiverId);
    }

    [Fact]
    public async Task The_longest_message_is_delivered_whole_even_when_every_character_is_escaped()
    {
        var alice = await app.CreateUserAsync();
        await using var connection = await app.ConnectAsync(alice);
        var text = string.Concat(Enumerable.Repeat("\"\u0001😀", 4096 / 4));

        await connection.SendRawAsync($"{alice.Id}:{text}");

        Assert.Equal(text, (await connection.NextMessageAsync()).Text);
    }

    [Fact]
    public async Task The_online_list_follows_connects_and_disconnects()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        Assert.DoesNotContain(bob.Id, await app.OnlineIdsAsync(alice));

        // The server counts a connection after the handshake and a disconnect after the client's dispose has
        // returned: each step waits for the count, so that what is asserted next is the server's answer to it.
        var first = await app.ConnectAsync(bob);
        var second = await app.ConnectAsync(bob);
        await Eventually.TrueAsync(async () => (await app.OnlineIdsAsync(alice)).Contains(bob.Id));
        await Eventually.TrueAsync(
            async () => await app.ConnectionsOfAsync(bob.Id) == 2,
            because: "The server did not count Bob's two connections.");
        var entry = (await app.OnlineAsync(alice)).Single(u => u.GetProperty("id").GetString() == bob.Id);
        Assert.Equal(bob.Username, entry.GetProperty("username").GetString());
        Assert.StartsWith("https://", entry.GetProperty("avatarUrl").GetString());

        await first.DisposeAsync();
        await Eventually.TrueAsync(
            async () => await app.ConnectionsOfAsync(bob.Id) == 1,
            because: "The server did not count the first connection's disconnect: Bob should have one connection left.");
        Assert.Contains(bob.Id, await app.OnlineIdsAsync(alice));

        await second.DisposeAsync();
        await Eventually.TrueAsync(async () => !(await app.OnlineIdsAsync(alice)).Contains(bob.Id));
    }
}

[Collection(MySqlRedisChat.Name)]
public sealed class HubOnMySqlAndRedisTests(MySqlRedisChat chat) : HubTests(chat.App);

[Collection(EmbeddedChat.Name)]
public sealed class HubEmbeddedTests(EmbeddedChat chat) : HubTests(chat.App);
