using System.Text.Json;
using Chat.Domain.Messaging;
using Chat.Api.Presence;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Chat.Api.Messaging;

/// <summary>The hub: checks what clients send and hands it on. Sender identity always comes from the token.</summary>
[Authorize]
public sealed class ChatHub(
    Messenger messenger,
    ReadMarkers markers,
    ContactPresence presence,
    IOptions<ChatHubOptions> options) : Hub<IChatClient>
{
    public const string Path = "/hubs/chat";

    private string UserId => Context.UserIdentifier!;

    /// <summary>This invocation's place in the connection's <see cref="SendOrder"/>, when it is a send (<see cref="SendOrderFilter"/>).</summary>
    internal SendTurn? Turn { get; set; }

    public override async Task OnConnectedAsync()
    {
        var connections = await presence.ConnectedAsync(UserId, Context.ConnectionAborted);
        var limit = options.Value.MaxConnectionsPerUser;
        if (connections > limit)
        {
            // Thrown here, the error closes this connection and the client is told why (OnDisconnected does not run).
            await presence.DisconnectedAsync(UserId);
            throw new HubException($"Too many connections: a user may hold at most {limit}. Close another one and retry.");
        }

        await Groups.AddToGroupAsync(Context.ConnectionId, Messenger.UserGroup(UserId), Context.ConnectionAborted);
    }

    public override Task OnDisconnectedAsync(Exception? exception) => presence.DisconnectedAsync(UserId);

    /// <summary>Stores <c>receiverID:message</c> and delivers it to every connection of the receiver.</summary>
    /// <param name="raw">
    /// Typed <see cref="object"/> so that a number, an object or an array reaches this method and gets a clear
    /// error: with <see cref="string"/>, SignalR would answer its generic binding failure instead.
    /// </param>
    public Task<SendReceipt> SendRaw(object? raw)
    {
        var text = raw switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } json => json.GetString(),
            _ => throw new HubException("SendRaw takes one string argument, 'receiverId:message'."),
        };

        return RawMessage.TryParse(text, out var message, out var error)
            ? messenger.SendAsync(Context, message, Turn)
            : throw new HubException(error);
    }

    /// <summary>Stores a message; a repeated <c>clientMessageId</c> returns the first receipt and stores nothing.</summary>
    public Task<SendReceipt> Send(SendRequest? request) =>
        request is null
            ? throw new HubException("Send takes one object argument, {receiverId, text, clientMessageId}.")
            : OutgoingMessage.TryCreate(request.ReceiverId, request.Text, request.ClientMessageId, out var message, out var error)
                ? messenger.SendAsync(Context, message, Turn)
                : throw new HubException(error);

    /// <summary>Tells the peer the caller is typing; call it freely (at most one event per 2 s reaches the peer).</summary>
    public Task Typing(string? peerId) =>
        string.IsNullOrEmpty(peerId)
            ? throw new HubException("Typing takes the peer's id.")
            : messenger.TypingAsync(UserId, peerId, Context.ConnectionAborted);

    /// <summary>Moves the caller's read marker in their conversation with <paramref name="peerId"/> forward.</summary>
    public Task<ReadMarker> MarkRead(string? peerId, string? upToId) =>
        string.IsNullOrEmpty(peerId) || string.IsNullOrEmpty(upToId)
            ? throw new HubException("MarkRead takes the peer's id and the id of the last message read.")
            : markers.MarkReadAsync(UserId, peerId, upToId, Context.ConnectionAborted);
}
