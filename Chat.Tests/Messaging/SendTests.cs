using System.Text.Json;
using Chat.Domain.Messaging;
using Chat.Tests.Fixtures;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using static Chat.Tests.Messaging.MessagingTestKit;

namespace Chat.Tests.Messaging;

/// <summary>
/// "Messages (v2)", storing and acknowledging: <c>Send</c> and <c>SendRaw</c> store before they answer, the receipt,
/// offline receivers, sending to yourself, idempotent retries, bad input and <c>MessageSent</c>; in every deployment.
/// </summary>
public abstract class SendTests(ChatApp app)
{
    [Fact]
    public async Task Send_answers_a_receipt_once_the_message_is_stored_and_the_receiver_gets_it_with_its_clientMessageId()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var clientMessageId = Guid.NewGuid().ToString();
        var before = DateTimeOffset.UtcNow;

        var receipt = await aliceConnection.SendAsync(bob.Id, " see you at 10:30 ", clientMessageId);

        Assert.Equal(bob.Id, receipt.ReceiverId);
        Assert.Equal(clientMessageId, receipt.ClientMessageId);
        Assert.InRange(receipt.SentAt, before.AddSeconds(-5), DateTimeOffset.UtcNow.AddSeconds(5));
        var expected = new ChatMessage(receipt.Id, alice.Id, bob.Id, " see you at 10:30 ", receipt.SentAt, clientMessageId);

        // Stored before the receipt: every read has it at once, no waiting.
        Assert.Equal([expected], (await app.HistoryAsync(bob, alice.Id)).Messages);
        Assert.Equal([expected], (await app.SyncAsync(alice)).Messages);

        // The same message live: a client de-duplicates the two by id.
        Assert.Equal(expected, await bobConnection.NextMessageAsync());
    }

    [Fact]
    public async Task The_receipts_of_Send_and_SendRaw_carry_id_receiverId_sentAt_and_clientMessageId_null_when_none_was_given()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);

        var raw = await aliceConnection.Hub.InvokeAsync<JsonElement>("SendRaw", $"{bob.Id}:raw");
        var sent = await aliceConnection.Hub.InvokeAsync<JsonElement>("Send", new { receiverId = bob.Id, text = "no key" });
        var keyed = await aliceConnection.Hub.InvokeAsync<JsonElement>("Send", new { receiverId = bob.Id, text = "keyed", clientMessageId = "key-1" });

        foreach (var receipt in new[] { raw, sent, keyed })
        {
            Assert.Equal(ReceiptFields, FieldsOf(receipt));
            Assert.Equal(bob.Id, receipt.GetProperty("receiverId").GetString());
        }

        Assert.Equal(JsonValueKind.Null, raw.GetProperty("clientMessageId").ValueKind);
        Assert.Equal(JsonValueKind.Null, sent.GetProperty("clientMessageId").ValueKind);
        Assert.Equal("key-1", keyed.GetProperty("clientMessageId").GetString());

        // What the receiver gets says the same: null for SendRaw and for a Send without a key.
        var live = new[] { await bobConnection.NextMessageAsync(), await bobConnection.NextMessageAsync(), await bobConnection.NextMessageAsync() };
        Assert.Equal([raw.GetProperty("id").GetString(), sent.GetProperty("id").GetString(), keyed.GetProperty("id").GetString()], live.Select(m => m.Id));
        Assert.Equal([null, null, "key-1"], live.Select(m => m.ClientMessageId));
        Assert.Equal(["raw", "no key", "keyed"], live.Select(m => m.Text));
    }

    [Fact]
    public async Task A_message_has_the_same_six_fields_live_in_MessageSent_history_sync_and_conversations()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var alicePhone = await app.ConnectAsync(alice);
        await using var aliceLaptop = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectBareAsync(bob);
        var received = bobConnection.RecordJson("ReceiveMessage");
        var sentElsewhere = aliceLaptop.Record<JsonElement>("MessageSent");

        var receipt = await alicePhone.SendAsync(bob.Id, "shape", "shape-1");
        var expected = MessageOf(receipt, alice.Id, "shape");

        var everywhere = new[]
        {
            await received.NextAsync(),
            await sentElsewhere.NextAsync(),
            (await app.GetJsonAsync(bob, $"/api/conversations/{alice.Id}/messages")).GetProperty("messages")[0],
            (await app.GetJsonAsync(alice, "/api/sync")).GetProperty("messages")[0],
            (await app.GetJsonAsync(bob, "/api/conversations"))[0].GetProperty("lastMessage"),
        };
        Assert.All(everywhere, message =>
        {
            AssertIsMessage(message);
            Assert.Equal(expected, message.ToMessage());
        });
    }

    [Fact]
    public async Task A_message_to_an_offline_receiver_is_stored_and_waits_in_their_sync_history_and_conversations()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);

        var receipt = await aliceConnection.SendAsync(bob.Id, "while you were away", "away-1");
        var expected = MessageOf(receipt, alice.Id, "while you were away");

        Assert.Equal([expected], (await app.SyncAsync(bob)).Messages);
        Assert.Equal([expected], (await app.HistoryAsync(bob, alice.Id)).Messages);
        var conversation = Assert.Single(await app.ConversationsAsync(bob));
        Assert.Equal(alice.Id, conversation.Peer.Id);
        Assert.Equal(alice.Username, conversation.Peer.Username);
        Assert.Equal(expected, conversation.LastMessage);
        Assert.Equal(1, conversation.UnreadCount);
        Assert.Null(conversation.ReadUpTo);
        Assert.Null(conversation.PeerReadUpTo);
    }

    [Fact]
    public async Task A_message_to_yourself_reaches_every_connection_of_yours_and_is_listed_once()
    {
        var alice = await app.CreateUserAsync();
        await using var phone = await app.ConnectAsync(alice);
        await using var laptop = await app.ConnectAsync(alice);

        var receipt = await phone.SendAsync(alice.Id, "note to self", "self-1");
        var expected = MessageOf(receipt, alice.Id, "note to self");

        Assert.Equal(expected, await phone.NextMessageAsync());
        Assert.Equal(expected, await laptop.NextMessageAsync());
        Assert.Equal([expected], (await app.SyncAsync(alice)).Messages);
        Assert.Equal([expected], (await app.HistoryAsync(alice, alice.Id)).Messages);
    }

    [Fact]
    public async Task Retrying_a_Send_with_the_same_clientMessageId_returns_the_first_receipt_and_stores_and_delivers_nothing_new()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var phone = await app.ConnectAsync(alice);
        await using var laptop = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var clientMessageId = Guid.NewGuid().ToString("N");

        var first = await phone.SendAsync(bob.Id, "only once", clientMessageId);
        var retried = await phone.SendAsync(bob.Id, "only once", clientMessageId);
        var fromAnotherConnection = await laptop.SendAsync(bob.Id, "only once", clientMessageId);

        Assert.Equal(first, retried);
        Assert.Equal(first, fromAnotherConnection);

        // The receiver got the message once: had a retry delivered it again, that copy would come before this one.
        var next = await phone.SendAsync(bob.Id, "next");
        Assert.Equal(first.Id, (await bobConnection.NextMessageAsync()).Id);
        Assert.Equal(next.Id, (await bobConnection.NextMessageAsync()).Id);
        Assert.Equal([first.Id, next.Id], (await app.HistoryAsync(bob, alice.Id)).Messages.Select(m => m.Id));
        Assert.Equal([first.Id, next.Id], (await app.SyncAsync(alice)).Messages.Select(m => m.Id));
    }

    [Fact]
    public async Task Reusing_a_clientMessageId_for_another_text_or_receiver_is_a_HubException_and_stores_and_delivers_nothing()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        var carol = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        await using var carolConnection = await app.ConnectAsync(carol);
        var first = await aliceConnection.SendAsync(bob.Id, "original", "reused");

        await AssertHubErrorAsync(() => aliceConnection.SendAsync(bob.Id, "changed", "reused"), "clientMessageId", "already used");
        await AssertHubErrorAsync(() => aliceConnection.SendAsync(carol.Id, "original", "reused"), "clientMessageId", "already used");

        // The connection works on; neither refused send reached anyone or was stored.
        var later = await aliceConnection.SendAsync(carol.Id, "later");
        Assert.Equal(first.Id, (await bobConnection.NextMessageAsync()).Id);
        Assert.Equal(later.Id, (await carolConnection.NextMessageAsync()).Id);
        Assert.Equal([first.Id, later.Id], (await app.SyncAsync(alice)).Messages.Select(m => m.Id));
        Assert.Equal(["original"], (await app.HistoryAsync(bob, alice.Id)).Messages.Select(m => m.Text));
    }

    [Fact]
    public async Task A_clientMessageId_is_the_senders_own_another_sender_may_use_the_same_one()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);

        var fromAlice = await aliceConnection.SendAsync(bob.Id, "same words", "shared-key");
        var fromBob = await bobConnection.SendAsync(alice.Id, "same words", "shared-key");

        Assert.NotEqual(fromAlice.Id, fromBob.Id);
        Assert.Equal(
            [MessageOf(fromAlice, alice.Id, "same words"), MessageOf(fromBob, bob.Id, "same words")],
            (await app.HistoryAsync(alice, bob.Id)).Messages);
    }

    public static TheoryData<string> BadSends => new()
    {
        "no receiverId field",
        "null receiverId",
        "empty receiverId",
        "unknown receiver",
        "receiver id with a leading space",
        "no text field",
        "null text",
        "empty text",
        "whitespace text",
        "text of 4097 characters",
        "text of 2049 surrogate pairs and nothing else",
        "empty clientMessageId",
        "clientMessageId of 65 characters",
        "clientMessageId with a space",
        "clientMessageId with a dot",
        "clientMessageId with a slash",
        "clientMessageId with a non-ASCII letter",
    };

    private static (object Argument, string Mentioned) BadSend(string badInput, string receiverId) => badInput switch
    {
        "no receiverId field" => (new { text = "hi" }, "receiver"),
        "null receiverId" => (new { receiverId = (string?)null, text = "hi" }, "receiver"),
        "empty receiverId" => (new { receiverId = "", text = "hi" }, "receiver"),
        "unknown receiver" => (new { receiverId = "nosuchuser", text = "hi" }, "Unknown receiver"),
        "receiver id with a leading space" => (new { receiverId = " " + receiverId, text = "hi" }, "Unknown receiver"),
        "no text field" => (new { receiverId }, "empty"),
        "null text" => (new { receiverId, text = (string?)null }, "empty"),
        "empty text" => (new { receiverId, text = "" }, "empty"),
        "whitespace text" => (new { receiverId, text = " \t\r\n " }, "empty"),
        "text of 4097 characters" => (new { receiverId, text = new string('x', 4097) }, "4096"),
        "text of 2049 surrogate pairs and nothing else" => (new { receiverId, text = string.Concat(Enumerable.Repeat("😀", 2049)) }, "4096"),
        "empty clientMessageId" => (new { receiverId, text = "hi", clientMessageId = "" }, "clientMessageId"),
        "clientMessageId of 65 characters" => (new { receiverId, text = "hi", clientMessageId = new string('a', 65) }, "clientMessageId"),
        "clientMessageId with a space" => (new { receiverId, text = "hi", clientMessageId = "a b" }, "clientMessageId"),
        "clientMessageId with a dot" => (new { receiverId, text = "hi", clientMessageId = "a.b" }, "clientMessageId"),
        "clientMessageId with a slash" => (new { receiverId, text = "hi", clientMessageId = "a/b" }, "clientMessageId"),
        "clientMessageId with a non-ASCII letter" => (new { receiverId, text = "hi", clientMessageId = "caf\u00e9" }, "clientMessageId"),
        _ => throw new ArgumentOutOfRangeException(nameof(badInput), badInput, null),
    };

    [Theory]
    [MemberData(nameof(BadSends))]
    public async Task A_bad_Send_is_a_HubException_saying_what_is_wrong_and_stores_nothing_and_the_connection_keeps_working(string badInput)
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var (argument, mentioned) = BadSend(badInput, bob.Id);

        await AssertHubErrorAsync(() => aliceConnection.SendArgumentAsync(argument), mentioned);

        var good = await aliceConnection.SendAsync(bob.Id, "still here");
        Assert.Equal(good.Id, (await bobConnection.NextMessageAsync()).Id);
        Assert.Equal([good.Id], (await app.SyncAsync(alice)).Messages.Select(m => m.Id));
    }

    public static TheoryData<object?> NonObjects => new() { 42, "receiverId:text", true, new[] { "a", "b" }, null };

    [Theory]
    [MemberData(nameof(NonObjects))]
    public async Task A_Send_argument_that_is_not_an_object_is_an_error_and_stores_nothing_and_the_connection_keeps_working(object? argument)
    {
        var alice = await app.CreateUserAsync();
        await using var connection = await app.ConnectAsync(alice);

        await Assert.ThrowsAsync<HubException>(() => connection.SendArgumentAsync(argument));

        var good = await connection.SendAsync(alice.Id, "still here");
        Assert.Equal(good.Id, (await connection.NextMessageAsync()).Id);
        Assert.Equal([good.Id], (await app.SyncAsync(alice)).Messages.Select(m => m.Id));
    }

    public static TheoryData<string> GoodClientMessageIds => new()
    {
        "a",
        "0123456789-_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "5f0c7e2a-4b1d-4e8a-9c3f-2d6b8a1e7c40",
    };

    [Theory]
    [MemberData(nameof(GoodClientMessageIds))]
    public async Task A_clientMessageId_of_1_to_64_letters_digits_underscores_and_dashes_is_accepted(string clientMessageId)
    {
        var alice = await app.CreateUserAsync();
        await using var connection = await app.ConnectAsync(alice);

        var receipt = await connection.SendAsync(alice.Id, "keyed", clientMessageId);

        Assert.Equal(clientMessageId, receipt.ClientMessageId);
        Assert.Equal(clientMessageId, (await connection.NextMessageAsync()).ClientMessageId);
    }

    [Fact]
    public async Task Send_takes_the_text_exactly_as_sent_up_to_4096_characters_as_dotnet_counts_them()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var longest = string.Concat(Enumerable.Repeat("😀", 2048));
        var spaced = "  a: \"b\" \n c:  ";

        await aliceConnection.SendAsync(bob.Id, longest);
        await aliceConnection.SendAsync(bob.Id, spaced);

        Assert.Equal(longest, (await bobConnection.NextMessageAsync()).Text);
        Assert.Equal(spaced, (await bobConnection.NextMessageAsync()).Text);
        Assert.Equal([longest, spaced], (await app.HistoryAsync(bob, alice.Id)).Messages.Select(m => m.Text));
    }

    [Fact]
    public async Task Sends_fired_at_once_on_one_connection_are_stored_and_delivered_in_the_order_they_were_sent()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var aliceConnection = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var texts = Enumerable.Range(1, 40).Select(i => $"message {i}").ToList();

        // Not awaited one by one: the server runs several of a connection's invocations at once.
        var receipts = await Task.WhenAll(texts.Select((text, i) =>
            i % 2 == 0 ? aliceConnection.SendAsync(bob.Id, text, $"key-{i}") : aliceConnection.SendRawAsync($"{bob.Id}:{text}")));

        var live = new List<string>();
        for (var i = 0; i < texts.Count; i++)
        {
            live.Add((await bobConnection.NextMessageAsync()).Text);
        }

        Assert.Equal(texts, live);
        Assert.Equal(texts, (await app.HistoryAsync(bob, alice.Id, "?limit=100")).Messages.Select(m => m.Text));
        Assert.Equal(receipts.Select(r => r.Id), (await app.SyncAsync(alice)).Messages.Select(m => m.Id));
    }

    [Fact]
    public async Task MessageSent_reaches_the_senders_other_connections_but_not_the_one_that_sent()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        await using var phone = await app.ConnectAsync(alice);
        await using var laptop = await app.ConnectAsync(alice);
        await using var bobConnection = await app.ConnectAsync(bob);
        var sentToPhone = phone.Record<ChatMessage>("MessageSent");
        var sentToLaptop = laptop.Record<ChatMessage>("MessageSent");

        var fromPhone = await phone.SendAsync(bob.Id, "from the phone", "phone-1");
        Assert.Equal(MessageOf(fromPhone, alice.Id, "from the phone"), await sentToLaptop.NextAsync());

        // SendRaw too. The phone's first MessageSent is the laptop's message: it got none for its own.
        var fromLaptop = await laptop.SendRawAsync($"{bob.Id}:from the laptop");
        Assert.Equal(MessageOf(fromLaptop, alice.Id, "from the laptop"), await sentToPhone.NextAsync());

        var again = await phone.SendAsync(bob.Id, "again from the phone");
        Assert.Equal(again.Id, (await sentToLaptop.NextAsync()).Id);

        // Neither of Alice's connections got a ReceiveMessage for them: Bob's reply is the first each gets.
        var reply = await bobConnection.SendAsync(alice.Id, "reply");
        Assert.Equal(reply.Id, (await phone.NextMessageAsync()).Id);
        Assert.Equal(reply.Id, (await laptop.NextMessageAsync()).Id);
        Assert.Equal([fromPhone.Id, fromLaptop.Id, again.Id], [
            (await bobConnection.NextMessageAsync()).Id, (await bobConnection.NextMessageAsync()).Id, (await bobConnection.NextMessageAsync()).Id]);
    }
}

[Collection(MySqlRedisChat.Name)]
public sealed class SendOnMySqlAndRedisTests(MySqlRedisChat chat) : SendTests(chat.App);

[Collection(EmbeddedChat.Name)]
public sealed class SendEmbeddedTests(EmbeddedChat chat) : SendTests(chat.App);
