using Chat.Api.Platform.Persistence;
using Chat.Api.Platform.RateLimiting;
using Chat.Api.Presence;
using Chat.Domain.Messaging;
using Chat.Domain.Users;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
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
    ContactPresence presence,
    IThrottle throttle,
    IServiceScopeFactory scopes,
    IOptions<MessageStoreOptions> options,
    IHubContext<ChatHub, IChatClient> hub,
    MessagingMetrics metrics,
    TimeProvider time,
    ILogger<Messenger> logger)
{
    /// <summary>At most one <c>UserTyping</c> per sender and peer in this long.</summary>
    public static readonly TimeSpan TypingPeriod = TimeSpan.FromSeconds(2);

    public const string NotStoredError = "The message was not stored: the database is unavailable right now. Try again shortly.";

    /// <summary>The group every connection of a user joins, so a user's other connections can be told apart from this one.</summary>
    public static string UserGroup(string userId) => "user:" + userId;

    public async Task<SendReceipt> SendAsync(HubCallerContext caller, OutgoingMessage message, SendTurn? turn)
    {
        var started = time.GetTimestamp();
        var cancellationToken = caller.ConnectionAborted;
        bool known;
        try
        {
            // Mostly answered from the directory's cache at once: a deadline (a timer) only for a lookup that waits.
            var lookup = users.ContainsAsync(message.ReceiverId, cancellationToken);
            known = lookup.IsCompletedSuccessfully
                ? lookup.Result
                : await lookup.AsTask().WaitAsync(options.Value.Timeout, time, cancellationToken);
        }
        catch (Exception ex) when (ChatDbContext.IsUnavailable(ex) || ex is TimeoutException)
        {
            LogDirectoryUnavailable(logger, ex);
            throw new HubException(NotStoredError);
        }

        if (!known)
        {
            metrics.Rejected(MessagingMetrics.Reasons.UnknownReceiver);
            throw new HubException("Unknown receiver: no user has that id.");
        }

        var senderId = caller.UserIdentifier!;
        switch (await writer.StoreAsync(senderId, message, turn, cancellationToken))
        {
            case StoreOutcome.Stored { Message: var stored, Repeated: var repeated, FirstOfConversation: var first }:
                if (!repeated)
                {
                    await DeliverAsync(stored, caller.ConnectionId);
                }

                if (first)
                {
                    await presence.IntroduceAsync(stored.SenderId, stored.ReceiverId);
                }

                metrics.Sent(time.GetElapsedTime(started));
                return SendReceipt.Of(stored);
            case StoreOutcome.ClientMessageIdTaken:
                metrics.Rejected(MessagingMetrics.Reasons.ClientMessageIdTaken);
                throw new HubException("That clientMessageId is already used for another message (another receiver or text).");
            case StoreOutcome.Blocked { Blocker: var blocker, Blockee: var blockee }:
                metrics.Rejected(MessagingMetrics.Reasons.Blocked);
                throw new HubException($"{blocker} does not accept messages from {blockee}: the message was not stored.");
            default:
                throw new HubException(NotStoredError);
        }
    }

    /// <summary>
    /// Relays "typing" to the peer: never stored, at most once per <see cref="TypingPeriod"/> per pair (more calls are
    /// dropped, not refused), and never between users of whom one blocks the other.
    /// </summary>
    public async Task TypingAsync(string senderId, string peerId, CancellationToken cancellationToken)
    {
        if (!await users.ContainsAsync(peerId, cancellationToken))
        {
            throw new HubException("Unknown peer: no user has that id.");
        }

        if (senderId == peerId || !await throttle.TryPassAsync("typing", $"{senderId}:{peerId}", TypingPeriod))
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        if (await db.Blocks.AnyAsync(
            b => (b.BlockerId == senderId && b.BlockedId == peerId) || (b.BlockerId == peerId && b.BlockedId == senderId), cancellationToken))
        {
            return;
        }

        await hub.Clients.User(peerId).UserTyping(new UserTyping(senderId));
    }

    private async Task DeliverAsync(ChatMessage message, string sendingConnectionId)
    {
        try
        {
            var received = hub.Clients.User(message.ReceiverId).ReceiveMessage(message);
            metrics.DeliveredLive();
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
