using System.Text.Json;
using Chat.Domain;
using Chat.Domain.Messaging;
using Chat.Domain.Presence;
using Chat.Domain.Users;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace Chat.Api.Hubs;

[Authorize]
public sealed class ChatHub(IUserDirectory users, IUserPresence presence, TimeProvider time) : Hub<IChatClient>
{
    public const string Path = "/hubs/chat";

    public override Task OnConnectedAsync() => presence.ConnectedAsync(Context.UserIdentifier!, Context.ConnectionAborted);

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
