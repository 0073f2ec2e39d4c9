using Chat.Api.Platform.Persistence;
using Chat.Domain.Messaging;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;

namespace Chat.Api.Messaging;

/// <summary>
/// <c>MarkRead</c>: a user's read marker in a conversation only moves forward, and its unread count is recounted from
/// it under a lock on the user's conversation row, which a writer storing a message in it takes too (to add to the
/// count): a message stored at the same moment is either counted here or added after, never lost from the count.
/// </summary>
public sealed class ReadMarkers(IServiceScopeFactory scopes, IHubContext<ChatHub, IChatClient> hub, TimeProvider time)
{
    public async Task<ReadMarker> MarkReadAsync(string userId, string peerId, string upToId, CancellationToken cancellationToken)
    {
        (ReadMarker Marker, bool Moved) result;
        try
        {
            result = await MoveAsync(userId, peerId, upToId, cancellationToken);
        }
        catch (Exception ex) when (ChatDbContext.IsUnavailable(ex))
        {
            throw new HubException("The read marker was not stored: the database is unavailable right now. Try again shortly.");
        }

        if (result.Moved)
        {
            await hub.Clients.Users([userId, peerId]).MessagesRead(new MessagesRead(userId, peerId, upToId, time.GetUtcNow()));
        }

        return result.Marker;
    }

    private async Task<(ReadMarker Marker, bool Moved)> MoveAsync(string userId, string peerId, string upToId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        var conversationId = Conversation.IdOf(userId, peerId);
        return await db.Database.CreateExecutionStrategy().ExecuteAsync(
            async ct =>
            {
                db.ChangeTracker.Clear();
                await using var transaction = await db.BeginWriteAsync(ct);
                var conversation = await db.LockConversationAsync(userId, peerId, ct);
                var upTo = conversation is null ? null : await db.Messages.AsNoTracking()
                    .Where(m => m.Id == upToId && m.ConversationId == conversationId)
                    .Select(m => new { m.ConversationSequence })
                    .FirstOrDefaultAsync(ct);
                if (conversation is null || upTo is null)
                {
                    throw new HubException("upToId is not a message of your conversation with that peer.");
                }

                var moved = upTo.ConversationSequence > conversation.ReadSequence;
                if (moved)
                {
                    conversation.ReadUpTo = upToId;
                    conversation.ReadSequence = upTo.ConversationSequence;
                    conversation.UnreadCount = userId == peerId ? 0 : await db.Messages.CountAsync(
                        m => m.ConversationId == conversationId && m.SenderId == peerId && m.ConversationSequence > upTo.ConversationSequence, ct);
                    await db.SaveChangesAsync(ct);
                }

                await transaction.CommitAsync(ct);
                return (new ReadMarker(peerId, conversation.ReadUpTo!, conversation.UnreadCount), moved);
            },
            cancellationToken);
    }
}
