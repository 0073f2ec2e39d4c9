using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.SignalR.Client;
using Chat.Tests.Fixtures;
using Microsoft.AspNetCore.SignalR;

namespace Chat.Tests.Presence;

public sealed record OnlineEvent(string UserId);

public sealed record OfflineEvent(string UserId, DateTimeOffset LastSeenAt);

public sealed record PeerProfile(string Id, string Username, bool Online, DateTimeOffset? LastSeenAt);

/// <summary>Contacts see each other come and go, live, across instances; nobody else does.</summary>
[Collection(MySqlRedisChat.Name)]
public sealed class ContactPresenceTests(MySqlRedisChat chat)
{
    private static readonly Dictionary<string, string?> ShortGrace = new() { ["Presence:GraceSeconds"] = "1" };

    /// <summary>Two users who exchanged a message: contacts.</summary>
    private static async Task<(TestUser A, TestUser B)> ContactsAsync(ChatApp app)
    {
        var a = await app.CreateUserAsync();
        var b = await app.CreateUserAsync();
        await using var connection = await app.ConnectAsync(a);
        await connection.SendAsync(b.Id, "hello, contact");
        return (a, b);
    }

    [Fact]
    public async Task Contacts_on_another_instance_see_a_user_come_online_and_go_offline_and_others_see_nothing()
    {
        await using var one = chat.StartInstance(ShortGrace);
        await using var two = chat.StartInstance(ShortGrace);
        var (alice, bob) = await ContactsAsync(one);
        var (carol, dave) = await ContactsAsync(one);
        await using var aliceConnection = await one.ConnectAsync(alice);
        await using var carolConnection = await one.ConnectAsync(carol);
        var aliceOnline = aliceConnection.Record<OnlineEvent>("UserOnline");
        var aliceOffline = aliceConnection.Record<OfflineEvent>("UserOffline");
        var carolOnline = carolConnection.Record<OnlineEvent>("UserOnline");
        var carolOffline = carolConnection.Record<OfflineEvent>("UserOffline");

        var bobConnection = await two.ConnectAsync(bob);
        Assert.Equal(bob.Id, (await aliceOnline.NextAsync()).UserId);
        var before = DateTimeOffset.UtcNow;
        await bobConnection.DisposeAsync();
        var offline = await aliceOffline.NextAsync();
        Assert.Equal(bob.Id, offline.UserId);
        Assert.InRange(offline.LastSeenAt, before.AddSeconds(-5), DateTimeOffset.UtcNow.AddSeconds(5));

        // Carol is no contact of Bob's: her own contact's events reach her, Bob's never did.
        await using (await two.ConnectAsync(dave))
        {
            Assert.Equal(dave.Id, (await carolOnline.NextAsync()).UserId);
        }

        Assert.Equal(dave.Id, (await carolOffline.NextAsync()).UserId);
        Assert.True(carolOnline.IsEmpty && carolOffline.IsEmpty);
    }

    [Fact]
    public async Task When_an_instance_stops_each_of_its_users_goes_offline_once_and_only_for_their_own_contacts()
    {
        await using var survivor = chat.StartInstance(ShortGrace);
        var stopping = chat.StartInstance(ShortGrace);
        var (alice, bob) = await ContactsAsync(survivor);
        var (carol, dave) = await ContactsAsync(survivor);
        var loner = await survivor.CreateUserAsync();
        await using var aliceConnection = await survivor.ConnectAsync(alice);
        await using var carolConnection = await survivor.ConnectAsync(carol);
        var aliceOnline = aliceConnection.Record<OnlineEvent>("UserOnline");
        var aliceOffline = aliceConnection.Record<OfflineEvent>("UserOffline");
        var carolOffline = carolConnection.Record<OfflineEvent>("UserOffline");
        await using var bobConnection = await stopping.ConnectAsync(bob);
        await using var daveConnection = await stopping.ConnectAsync(dave);
        await using var lonerConnection = await stopping.ConnectAsync(loner);
        Assert.Equal(bob.Id, (await aliceOnline.NextAsync()).UserId);

        await stopping.DisposeAsync(); // its three users leave together, and the survivor announces them

        Assert.Equal(bob.Id, (await aliceOffline.NextAsync()).UserId);
        Assert.Equal(dave.Id, (await carolOffline.NextAsync()).UserId);
        // Bob back, on the survivor: his UserOnline comes after anything else the departures sent Alice.
        await using var bobAgain = await survivor.ConnectAsync(bob);
        Assert.Equal(bob.Id, (await aliceOnline.NextAsync()).UserId);
        Assert.True(aliceOffline.IsEmpty);
    }

    [Fact]
    public async Task A_reconnect_within_the_grace_period_sends_neither_event()
    {
        await using var one = chat.StartInstance(new Dictionary<string, string?> { ["Presence:GraceSeconds"] = "3" });
        var (alice, bob) = await ContactsAsync(one);
        await using var aliceConnection = await one.ConnectAsync(alice);
        var online = aliceConnection.Record<OnlineEvent>("UserOnline");
        var offline = aliceConnection.Record<OfflineEvent>("UserOffline");
        await (await one.ConnectAsync(bob)).DisposeAsync();
        Assert.Equal(bob.Id, (await online.NextAsync()).UserId);

        // A page reload: gone and back at once. Then gone for good.
        var reloaded = await one.ConnectAsync(bob);
        await reloaded.DisposeAsync();

        var last = await offline.NextAsync();
        Assert.Equal(bob.Id, last.UserId);
        Assert.True(online.IsEmpty, "the reconnect within the grace period was announced");
    }

    [Fact]
    public async Task Last_seen_is_null_while_online_and_stored_when_the_last_connection_ends()
    {
        var (alice, bob) = await ContactsAsync(chat.App);
        var bobConnection = await chat.App.ConnectAsync(bob);
        await Eventually.TrueAsync(async () => (await chat.App.ConnectionsOfAsync(bob.Id)) == 1);
        var whileOnline = await chat.App.GetOkAsync<PeerProfile>(alice, $"/api/users/{bob.Id}");
        Assert.True(whileOnline.Online);
        Assert.Null(whileOnline.LastSeenAt);

        await bobConnection.DisposeAsync();
        PeerProfile? after = null;
        await Eventually.TrueAsync(async () => (after = await chat.App.GetOkAsync<PeerProfile>(alice, $"/api/users/{bob.Id}")).LastSeenAt is not null);
        Assert.False(after!.Online);

        var conversation = Assert.Single(await chat.App.ConversationsAsync(alice));
        Assert.Equal(bob.Id, conversation.Peer.Id);
    }

    [Fact]
    public async Task A_first_message_between_two_online_users_announces_each_to_the_other()
    {
        var alice = await chat.App.CreateUserAsync();
        var bob = await chat.App.CreateUserAsync();
        await using var aliceConnection = await chat.App.ConnectAsync(alice);
        await using var bobConnection = await chat.App.ConnectAsync(bob);
        var aliceOnline = aliceConnection.Record<OnlineEvent>("UserOnline");
        var bobOnline = bobConnection.Record<OnlineEvent>("UserOnline");

        await aliceConnection.SendAsync(bob.Id, "nice to meet you");

        Assert.Equal(alice.Id, (await bobOnline.NextAsync()).UserId);
        Assert.Equal(bob.Id, (await aliceOnline.NextAsync()).UserId);
    }

    [Fact]
    public async Task A_SIGKILLed_instance_users_go_offline_for_their_contacts_within_the_TTL_and_15_s()
    {
        var settings = Settings.Merge(chat.Stores, new Dictionary<string, string?> { ["Presence:TtlSeconds"] = "3" });
        await using var survivor = chat.StartInstance(new Dictionary<string, string?> { ["Presence:TtlSeconds"] = "3" });
        await using var doomed = await ChatProcess.StartAsync(settings);
        var (alice, bob) = await ContactsAsync(survivor);
        await using var aliceConnection = await survivor.ConnectAsync(alice);
        var online = aliceConnection.Record<OnlineEvent>("UserOnline");
        var offline = aliceConnection.Record<OfflineEvent>("UserOffline");
        await using var bobConnection = await doomed.Client.ConnectAsync(bob);
        Assert.Equal(bob.Id, (await online.NextAsync()).UserId);

        doomed.Kill();
        var clock = Stopwatch.StartNew();

        Assert.Equal(bob.Id, (await offline.NextAsync(TimeSpan.FromSeconds(3 + 15))).UserId);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(3 + 15));
        Assert.False((await survivor.GetOkAsync<PeerProfile>(alice, $"/api/users/{bob.Id}")).Online);
    }

    [Fact]
    public async Task Typing_reaches_the_peer_at_most_once_per_2_s_and_does_not_count_against_the_message_limit()
    {
        await using var limited = chat.StartInstance(new Dictionary<string, string?>
        {
            ["RateLimiting:Messages:PermitsPerSecond"] = "1",
            ["RateLimiting:Messages:Burst"] = "1",
        });
        var (alice, bob) = await ContactsAsync(chat.App);
        await using var aliceConnection = await limited.ConnectAsync(alice);
        await using var bobConnection = await limited.ConnectAsync(bob);
        var typing = aliceConnection.Record<OnlineEvent>("UserTyping");

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            await bobConnection.Hub.InvokeAsync<object?>("Typing", alice.Id);
        }

        Assert.Equal(bob.Id, (await typing.NextAsync()).UserId);
        await Eventually.TrueAsync(async () =>
        {
            await bobConnection.Hub.InvokeAsync<object?>("Typing", alice.Id);
            return !typing.IsEmpty;
        });
        Assert.Equal(bob.Id, (await typing.NextAsync()).UserId);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"a second UserTyping after {clock.Elapsed}");

        // Twenty-odd calls, and the one-per-second message budget is still whole.
        await bobConnection.SendAsync(alice.Id, "typed");
    }

    [Fact]
    public async Task Typing_to_an_unknown_user_or_without_a_string_id_is_a_clear_error_and_the_connection_stays_usable()
    {
        var (alice, bob) = await ContactsAsync(chat.App);
        await using var connection = await chat.App.ConnectAsync(alice);

        var unknown = await Assert.ThrowsAsync<HubException>(() => connection.Hub.InvokeAsync<object?>("Typing", "nobody-has-this-id"));
        Assert.Contains("Unknown", unknown.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<HubException>(() => connection.Hub.InvokeAsync<object?>("Typing", ""));
        await Assert.ThrowsAnyAsync<Exception>(() => connection.Hub.InvokeAsync<object?>("Typing", 42));

        Assert.Equal(bob.Id, (await connection.SendAsync(bob.Id, "still here")).ReceiverId);
    }

    [Fact]
    public async Task A_block_refuses_sends_both_ways_on_every_instance_at_once_and_hides_presence_and_typing()
    {
        await using var one = chat.StartInstance(ShortGrace);
        await using var two = chat.StartInstance(ShortGrace);
        var (alice, bob) = await ContactsAsync(one);
        var carol = await one.CreateUserAsync();
        await using var aliceConnection = await one.ConnectAsync(alice);
        var aliceOnline = aliceConnection.Record<OnlineEvent>("UserOnline");
        var aliceTyping = aliceConnection.Record<OnlineEvent>("UserTyping");
        await using var bobOnTwo = await two.ConnectAsync(bob);
        Assert.Equal(bob.Id, (await aliceOnline.NextAsync()).UserId);

        var block = await one.Http.SendAsync(one.Authorized(HttpMethod.Put, $"/api/users/{bob.Id}/block", alice.AccessToken));
        Assert.Equal(HttpStatusCode.NoContent, block.StatusCode);

        var fromBob = await Assert.ThrowsAsync<HubException>(() => bobOnTwo.SendAsync(alice.Id, "can you hear me?"));
        Assert.Contains($"{alice.Username} does not accept messages from {bob.Username}", fromBob.Message, StringComparison.Ordinal);
        var toBob = await Assert.ThrowsAsync<HubException>(() => aliceConnection.SendAsync(bob.Id, "bye"));
        Assert.Contains("does not accept messages", toBob.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<HubException>(() => bobOnTwo.SendRawAsync($"{alice.Id}:raw too"));

        // Bob types and comes back online: Alice hears neither. Carol's typing, after both, arrives alone.
        await bobOnTwo.Hub.InvokeAsync<object?>("Typing", alice.Id);
        await (await two.ConnectAsync(bob)).DisposeAsync();
        await using var carolConnection = await one.ConnectAsync(carol);
        await carolConnection.Hub.InvokeAsync<object?>("Typing", alice.Id);
        Assert.Equal(carol.Id, (await aliceTyping.NextAsync()).UserId);
        Assert.True(aliceTyping.IsEmpty && aliceOnline.IsEmpty);

        var history = await one.HistoryAsync(bob, alice.Id);
        Assert.Equal(["hello, contact"], history.Messages.Select(m => m.Text));
        var blocked = await one.GetOkAsync<List<PeerProfile>>(alice, "/api/users/blocked");
        Assert.Equal([bob.Id], blocked.Select(u => u.Id));

        var unblock = await two.Http.SendAsync(two.Authorized(HttpMethod.Delete, $"/api/users/{bob.Id}/block", alice.AccessToken));
        Assert.Equal(HttpStatusCode.NoContent, unblock.StatusCode);
        Assert.Equal(alice.Id, (await bobOnTwo.SendAsync(alice.Id, "friends again")).ReceiverId);
    }

    [Fact]
    public async Task A_block_hides_each_from_the_other_in_every_HTTP_view_of_presence_and_from_nobody_else()
    {
        var (alice, bob) = await ContactsAsync(chat.App);
        var carol = await chat.App.CreateUserAsync();
        await using var aliceConnection = await chat.App.ConnectAsync(alice);
        await using var bobConnection = await chat.App.ConnectAsync(bob);
        async Task<bool> SeesOnline(TestUser viewer, TestUser user) =>
            (await chat.App.OnlineIdsAsync(viewer)).Contains(user.Id)
            && (await chat.App.GetOkAsync<PeerProfile>(viewer, $"/api/users/{user.Id}")).Online;
        await Eventually.TrueAsync(async () => await SeesOnline(alice, bob) && await SeesOnline(bob, alice));
        Assert.True(Assert.Single(await chat.App.ConversationsAsync(alice)).Peer.Online);

        var block = await chat.App.Http.SendAsync(chat.App.Authorized(HttpMethod.Put, $"/api/users/{bob.Id}/block", alice.AccessToken));
        Assert.Equal(HttpStatusCode.NoContent, block.StatusCode);

        foreach (var (viewer, user) in new[] { (alice, bob), (bob, alice) })
        {
            Assert.DoesNotContain(user.Id, await chat.App.OnlineIdsAsync(viewer));
            Assert.Contains(viewer.Id, await chat.App.OnlineIdsAsync(viewer));
            var profile = await chat.App.GetOkAsync<PeerProfile>(viewer, $"/api/users/{user.Id}");
            Assert.False(profile.Online);
            Assert.Null(profile.LastSeenAt);
            var peer = Assert.Single(await chat.App.ConversationsAsync(viewer)).Peer;
            Assert.Equal(user.Id, peer.Id);
            Assert.False(peer.Online);
            Assert.Null(peer.LastSeenAt);
            Assert.True(await SeesOnline(carol, user), $"the block hid {user.Username} from Carol too");
        }
    }

    [Fact]
    public async Task Blocking_is_idempotent_and_refuses_yourself_and_unknown_users()
    {
        var (alice, bob) = await ContactsAsync(chat.App);
        async Task<HttpResponseMessage> Send(HttpMethod method, string id) =>
            await chat.App.Http.SendAsync(chat.App.Authorized(method, $"/api/users/{id}/block", alice.AccessToken));

        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Put, bob.Id)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Put, bob.Id)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Delete, bob.Id)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Delete, bob.Id)).StatusCode);

        var self = await Send(HttpMethod.Put, alice.Id);
        Assert.Equal(HttpStatusCode.BadRequest, self.StatusCode);
        Assert.Equal("application/problem+json", self.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Put, "nobody-has-this-id")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Delete, "nobody-has-this-id")).StatusCode);
        Assert.Empty(await chat.App.GetOkAsync<List<PeerProfile>>(alice, "/api/users/blocked"));
    }
}
