using System.Data.Common;
using Chat.Domain.Messaging;
using Chat.Domain.Users;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Api.Messaging;

/// <summary>
/// A send, from checked input to receipt: the receiver must exist, the message is stored (<see cref="MessageWriter"/>),
/// and only then delivered live — to the receiver's connections and to the sender's other ones. Live delivery is
/// best effort: a message stored but not delivered (Redis away) reaches its receiver through sync.
/// </summary>
public sealed partial class Messenger(
    IUserDirectory users,
    MessageWriter writer,
    IOptions<MessageStoreOptions> options,
    IHubContext<ChatHub, IChatClient> hub,
    ILogger<Messenger> logger)
{
    public const string NotStoredError = "The message was not stored: the database is unavailable right now. Try again shortly.";

    /// <summary>The group every connection of a user joins, so a user's other connections can be told apart from this one.</summary>
    public static string UserGroup(string userId) => "user:" + userId;

    public async Task<SendReceipt> SendAsync(HubCallerContext caller, OutgoingMessage message)
    {
        var cancellationToken = caller.ConnectionAborted;
        bool known;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(options.Value.Timeout);
            known = await users.ContainsAsync(message.ReceiverId, deadline.Token);
        }
        catch (Exception ex) when (ex is DbException or RetryLimitExceededException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogDirectoryUnavailable(logger, ex);
            throw new HubException(NotStoredError);
        }

        if (!known)
        {
            throw new HubException("Unknown receiver: no user has that id.");
        }

        var senderId = caller.UserIdentifier!;
        switch (await writer.StoreAsync(senderId, message, cancellationToken))
        {
            case StoreOutcome.Stored { Message: var stored, Repeated: var repeated }:
                if (!repeated)
                {
                    await DeliverAsync(stored, caller.ConnectionId);
                }

                return SendReceipt.Of(stored);
            case StoreOutcome.ClientMessageIdTaken:
                throw new HubException("That clientMessageId is already used for another message (another receiver or text).");
            default:
                throw new HubException(NotStoredError);
        }
    }

    private async Task DeliverAsync(ChatMessage message, string sendingConnectionId)
    {
        try
        {
            var received = hub.Clients.User(message.ReceiverId).ReceiveMessage(message);
            if (message.ReceiverId != message.SenderId)
            {
                await hub.Clients.GroupExcept(UserGroup(message.SenderId), sendingConnectionId).MessageSent(message);
            }

            await received;
        }
        catch (RedisException ex)
        {
            // Stored, so not lost: the receiver's instance tells its connections to sync once Redis is back.
            LogDeliveryPaused(logger, message.Id, ex);
        }
    }

    [LoggerMessage(10, LogLevel.Warning, "Message {MessageId} is stored but could not be delivered live: Redis is unreachable", EventName = "DeliveryPaused")]
    private static partial void LogDeliveryPaused(ILogger logger, string messageId, Exception ex);

    [LoggerMessage(11, LogLevel.Warning, "A receiver could not be looked up: the database is unreachable", EventName = "DirectoryUnavailable")]
    private static partial void LogDirectoryUnavailable(ILogger logger, Exception ex);
}
