using System.Globalization;
using System.Security.Claims;
using Chat.Api.Accounts;
using Chat.Api.Platform.OpenApi;
using Chat.Api.Platform.Persistence;
using Chat.Api.Platform.RateLimiting;
using Chat.Api.Users;
using Chat.Domain.Messaging;
using Chat.Domain.Presence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Chat.Api.Messaging;

/// <summary>
/// Reading stored messages: the conversation list, a conversation's history, and sync. Every page costs O(page):
/// conversations come from their per-user rows, history from the conversation's order, sync from the caller's
/// sequence (see <see cref="Message"/>).
/// </summary>
public static class ConversationEndpoints
{
    public static RouteGroupBuilder MapConversationEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Messages").RequireAuthorization().RequireRateLimiting(ReadRateLimit.Policy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapGet("/conversations", ListConversations)
            .WithSummary("Your conversations, the one with the most recently stored message first")
            .WithDescription("limit: 1-100 (default 50). before: the lastMessage.id of the last conversation of the previous page.")
            .WithExamples(response: MessageExamples.Conversations);
        api.MapGet("/conversations/{peerId}/messages", ListMessages)
            .WithSummary("Messages of your conversation with a user, oldest first")
            .WithDescription("No cursor: the newest limit messages. before=ID: the limit stored right before that message; " +
                "after=ID: the limit stored right after it. limit: 1-100 (default 50).")
            .WithExamples(response: MessageExamples.Page)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/sync", Sync)
            .WithSummary("Every message you sent or received after a cursor, in stored order")
            .WithDescription("Call again with the cursor of the answer as after: each message comes exactly once. " +
                "No after: from the very first. limit: 1-1000 (default 100).")
            .WithExamples(response: MessageExamples.Sync);
        return api;
    }

    static async Task<Results<Ok<List<ConversationView>>, ValidationProblem>> ListConversations(
        string? limit, string? before, ClaimsPrincipal principal, ChatDbContext db, IUserPresence presence, CancellationToken cancellationToken)
    {
        if (!TryParseLimit(limit, max: 100, fallback: 50, out var count))
        {
            return Invalid("limit", "limit must be a whole number from 1 to 100.");
        }

        var me = principal.UserId();
        var page = db.Conversations.AsNoTracking().Where(c => c.UserId == me);
        if (before is not null)
        {
            var anchor = await LastMessageSequenceAsync(db, me, before, cancellationToken);
            if (anchor is null)
            {
                return Invalid("before", "before must be the lastMessage.id of one of your conversations.");
            }

            page = page.Where(c => c.LastSequence < anchor);
        }

        var rows = await page.OrderByDescending(c => c.LastSequence).Take(count).ToListAsync(cancellationToken);
        if (rows.Count == 0)
        {
            return TypedResults.Ok(new List<ConversationView>());
        }

        var peerIds = rows.Select(c => c.PeerId).ToList();
        var lastIds = rows.Select(c => c.LastMessageId).ToList();
        var online = await presence.WhichOnlineAsync(peerIds, cancellationToken);
        var hidden = await db.BlockedEitherWayAsync(me, cancellationToken);
        var peers = await db.Users.AsNoTracking().Where(u => EF.Constant(peerIds).Contains(u.Id))
            .ToDictionaryAsync(
                u => u.Id,
                u => hidden.Contains(u.Id) ? PeerView.WithoutPresence(u) : PeerView.From(u, online.Contains(u.Id)),
                cancellationToken);
        var lasts = await db.Messages.AsNoTracking().Where(m => EF.Constant(lastIds).Contains(m.Id))
            .ToDictionaryAsync(m => m.Id, m => m.ToChatMessage(), cancellationToken);
        var peerMarkers = await db.Conversations.AsNoTracking()
            .Where(c => c.PeerId == me && EF.Constant(peerIds).Contains(c.UserId))
            .ToDictionaryAsync(c => c.UserId, c => c.ReadUpTo, cancellationToken);
        return TypedResults.Ok(rows.Select(c => new ConversationView(
            peers[c.PeerId], lasts[c.LastMessageId], c.UnreadCount, c.ReadUpTo, peerMarkers.GetValueOrDefault(c.PeerId))).ToList());
    }

    /// <summary>The caller's sequence number of <paramref name="messageId"/>, if it is the last message of one of their conversations.</summary>
    private static async Task<long?> LastMessageSequenceAsync(ChatDbContext db, string me, string messageId, CancellationToken cancellationToken)
    {
        var message = await db.Messages.AsNoTracking().FirstOrDefaultAsync(m => m.Id == messageId, cancellationToken);
        if (message is null || (message.SenderId != me && message.ReceiverId != me))
        {
            return null;
        }

        var peerId = message.SenderId == me ? message.ReceiverId : message.SenderId;
        var isLast = await db.Conversations.AnyAsync(c => c.UserId == me && c.PeerId == peerId && c.LastMessageId == messageId, cancellationToken);
        return isLast ? message.SequenceOf(me) : null;
    }

    static async Task<Results<Ok<MessagePage>, ValidationProblem, ProblemHttpResult>> ListMessages(
        string peerId, string? limit, string? before, string? after, ClaimsPrincipal principal, ChatDbContext db, CancellationToken cancellationToken)
    {
        if (!TryParseLimit(limit, max: 100, fallback: 50, out var count))
        {
            return Invalid("limit", "limit must be a whole number from 1 to 100.");
        }

        if (before is not null && after is not null)
        {
            return Invalid("before", "Give before or after, not both.");
        }

        if (!await db.Users.AnyAsync(u => u.Id == peerId, cancellationToken))
        {
            return TypedResults.Problem(title: "No such user.", statusCode: StatusCodes.Status404NotFound);
        }

        var conversationId = Conversation.IdOf(principal.UserId(), peerId);
        var messages = db.Messages.AsNoTracking().Where(m => m.ConversationId == conversationId);
        var cursor = before ?? after;
        long? anchor = null;
        if (cursor is not null)
        {
            anchor = await messages.Where(m => m.Id == cursor).Select(m => (long?)m.ConversationSequence).FirstOrDefaultAsync(cancellationToken);
            if (anchor is null)
            {
                return Invalid(before is null ? "after" : "before", "The cursor must be the id of a message of this conversation.");
            }
        }

        // One more than asked says whether there are more.
        List<Message> found;
        if (after is not null)
        {
            found = await messages.Where(m => m.ConversationSequence > anchor)
                .OrderBy(m => m.ConversationSequence).Take(count + 1).ToListAsync(cancellationToken);
        }
        else
        {
            var older = anchor is null ? messages : messages.Where(m => m.ConversationSequence < anchor);
            found = await older.OrderByDescending(m => m.ConversationSequence).Take(count + 1).ToListAsync(cancellationToken);
        }

        var page = found.Take(count).Select(m => m.ToChatMessage()).ToList();
        if (after is null)
        {
            page.Reverse();
        }

        return TypedResults.Ok(new MessagePage(page, found.Count > count));
    }

    static async Task<Results<Ok<SyncPage>, ValidationProblem>> Sync(
        string? after, string? limit, ClaimsPrincipal principal, ChatDbContext db, CancellationToken cancellationToken)
    {
        if (!TryParseLimit(limit, max: 1000, fallback: 100, out var count))
        {
            return Invalid("limit", "limit must be a whole number from 1 to 1000.");
        }

        long cursor = 0;
        if (after is not null && !long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out cursor))
        {
            return Invalid("after", "after must be a cursor from an earlier sync.");
        }

        // A user's sent and received messages each follow the user's sequence; merged, the first count + 1 of the two
        // index ranges are the page (and whether there is more).
        var me = principal.UserId();
        var sent = await db.Messages.AsNoTracking()
            .Where(m => m.SenderId == me && m.SenderSequence > cursor)
            .OrderBy(m => m.SenderSequence).Take(count + 1).ToListAsync(cancellationToken);
        var received = await db.Messages.AsNoTracking()
            .Where(m => m.ReceiverId == me && m.SenderId != me && m.ReceiverSequence > cursor)
            .OrderBy(m => m.ReceiverSequence).Take(count + 1).ToListAsync(cancellationToken);
        var merged = sent.Concat(received).OrderBy(m => m.SequenceOf(me)).Take(count + 1).ToList();
        var page = merged.Take(count).ToList();
        var next = page.Count > 0 ? page[^1].SequenceOf(me) : cursor;
        return TypedResults.Ok(new SyncPage(
            page.Select(m => m.ToChatMessage()).ToList(), next.ToString(CultureInfo.InvariantCulture), merged.Count > count));
    }

    private static bool TryParseLimit(string? raw, int max, int fallback, out int limit)
    {
        if (raw is null)
        {
            limit = fallback;
            return true;
        }

        return int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit >= 1 && limit <= max;
    }

    private static ValidationProblem Invalid(string field, string error) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [error] });
}
