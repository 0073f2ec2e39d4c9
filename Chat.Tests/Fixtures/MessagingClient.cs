using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Chat.Domain.Messaging;
using Microsoft.AspNetCore.SignalR.Client;

namespace Chat.Tests.Fixtures;

/// <summary>The message-store parts of the contract, as a client uses them: the hub methods and events, and the reads.</summary>
public static class MessagingClient
{
    public static Task<SendReceipt> SendAsync(this ChatConnection connection, string receiverId, string text, string? clientMessageId = null) =>
        connection.Hub.InvokeAsync<SendReceipt>("Send", new { receiverId, text, clientMessageId });

    public static Task<JsonElement> MarkReadAsync(this ChatConnection connection, string peerId, string upToId) =>
        connection.Hub.InvokeAsync<JsonElement>("MarkRead", peerId, upToId);

    /// <summary>Keeps every <paramref name="method"/> event the connection gets from now on.</summary>
    public static Events<T> Record<T>(this ChatConnection connection, string method)
    {
        var events = new Events<T>();
        connection.Hub.On<T>(method, events.Add);
        return events;
    }

    /// <summary>Keeps every argument-less <paramref name="method"/> event the connection gets from now on.</summary>
    public static Events<bool> RecordSignal(this ChatConnection connection, string method)
    {
        var events = new Events<bool>();
        connection.Hub.On(method, () => events.Add(true));
        return events;
    }

    public static async Task<HttpResponseMessage> GetAsync(this ChatApp app, TestUser user, string path) =>
        await app.Http.SendAsync(app.Authorized(HttpMethod.Get, path, user.AccessToken));

    public static async Task<T> GetOkAsync<T>(this ChatApp app, TestUser user, string path)
    {
        var response = await app.GetAsync(user, path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }

    public static Task<SyncBody> SyncAsync(this ChatApp app, TestUser user, string? after = null, int limit = 100) =>
        app.GetOkAsync<SyncBody>(user, $"/api/sync?limit={limit}" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}"));

    public static Task<PageBody> HistoryAsync(this ChatApp app, TestUser user, string peerId, string query = "") =>
        app.GetOkAsync<PageBody>(user, $"/api/conversations/{peerId}/messages{query}");

    public static Task<List<ConversationBody>> ConversationsAsync(this ChatApp app, TestUser user, string query = "") =>
        app.GetOkAsync<List<ConversationBody>>(user, "/api/conversations" + query);
}

public sealed record SyncBody(List<ChatMessage> Messages, string Cursor, bool HasMore);

public sealed record PageBody(List<ChatMessage> Messages, bool HasMore);

public sealed record PeerBody(string Id, string Username, string AvatarUrl, bool Online, DateTimeOffset? LastSeenAt);

public sealed record ConversationBody(PeerBody Peer, ChatMessage LastMessage, int UnreadCount, string? ReadUpTo, string? PeerReadUpTo);

/// <summary>Events a connection got, in order.</summary>
public sealed class Events<T>
{
    private readonly Channel<T> channel = Channel.CreateUnbounded<T>();

    public void Add(T item) => channel.Writer.TryWrite(item);

    public async Task<T> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        return await channel.Reader.ReadAsync(cts.Token);
    }

    /// <summary>Nothing came (yet): assert it only after something later has arrived, so the check can fail.</summary>
    public bool IsEmpty => channel.Reader.Count == 0;
}
