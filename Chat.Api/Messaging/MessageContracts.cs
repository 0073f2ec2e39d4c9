using Chat.Api.Users;
using Chat.Domain.Messaging;

namespace Chat.Api.Messaging;

/// <summary>A conversation as its user sees it; <c>ReadUpTo</c> and <c>PeerReadUpTo</c> are message ids, or null.</summary>
public sealed record ConversationView(PeerView Peer, ChatMessage LastMessage, int UnreadCount, string? ReadUpTo, string? PeerReadUpTo);

/// <summary>A page of history; <c>HasMore</c>: more messages lie beyond it in the direction it went.</summary>
public sealed record MessagePage(IReadOnlyList<ChatMessage> Messages, bool HasMore);

/// <summary>A page of sync; <c>Cursor</c> goes into the next call's <c>after</c>.</summary>
public sealed record SyncPage(IReadOnlyList<ChatMessage> Messages, string Cursor, bool HasMore);

/// <summary>The examples Swagger UI shows for the message endpoints.</summary>
internal static class MessageExamples
{
    public static readonly ChatMessage Message = new(
        "019ab5d2c4e07a3b9f1e2d3c4b5a6979", UserExamples.Summary.Id, "019ab5d2c4e07a3b9f1e2d3c4b5a6980", "See you at 10:30?",
        new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero), "5f0c7e2a-4b1d-4e8a-9c3f-2d6b8a1e7c40");

    public static readonly ConversationView[] Conversations = [new(UserExamples.Peer, Message, 1, null, Message.Id)];

    public static readonly MessagePage Page = new([Message], HasMore: false);

    public static readonly SyncPage Sync = new([Message], "42", HasMore: false);
}
