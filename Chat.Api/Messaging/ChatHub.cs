using System.Text.Json;
using Chat.Domain;
using Chat.Domain.Messaging;
using Chat.Domain.Presence;
using Chat.Domain.Users;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Chat.Api.Messaging;

[Authorize]
public sealed class ChatHub(
    IUserDirectory users,
    IUserPresence presence,
    IOptions<ChatHubOptions> options,
    TimeProvider time) : Hub<IChatClient>
{
    public const string Path = "/hubs/chat";

    public override async Task OnConnectedAsync()
    {
        var connections = await presence.ConnectedAsync(Context.UserIdentifier!, Context.ConnectionAborted);
        var limit = options.Value.MaxConnectionsPerUser;
        if (connections > limit)
        {
            // Thrown here, the error closes this connection and the client is told why (OnDisconnected does not run).
            await presence.DisconnectedAsync(Context.UserIdentifier!);
            throw new HubException($"Too many connections: a user may hold at most {limit}. Close another one and retry.");
        }
    }

    public override Task OnDisconnectedAsync(Exception? exception) => presence.DisconnectedAsync(Context.UserIdentifier!);

    /// <summary>Sends <c>receiverID:message</c> to every connection of the receiver.</summary>
    /// <param name="raw">
    /// Typed <see cref="object"/> so that a number, an object or an array reaches this method and gets a clear
    /// error: with <see cref="string"/>, SignalR would answer its generic binding failure instead.
    /// </param>
    public async Task<SendReceipt> SendRaw(object? raw)
    {
        var text = raw switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } json => json.GetString(),
            _ => throw new HubException("SendRaw takes one string argument, 'receiverId:message'."),
        };

        if (!RawMessage.TryParse(text, out var message, out var error))
        {
            throw new HubException(error);
        }

        if (!await users.ContainsAsync(message.ReceiverId, Context.ConnectionAborted))
        {
            throw new HubException("Unknown receiver: no user has the id given before ':'.");
        }

        var sent = new ChatMessage(SortableId.New(time), Context.UserIdentifier!, message.ReceiverId, message.Text, time.GetUtcNow());
        await Clients.User(message.ReceiverId).ReceiveMessage(sent);
        return new SendReceipt(sent.Id, sent.ReceiverId, sent.SentAt);
    }
}
