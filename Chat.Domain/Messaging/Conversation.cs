namespace Chat.Domain.Messaging;

/// <summary>
/// One user's view of their conversation with a peer, kept up to date in the transaction that stores each message,
/// so that listing conversations costs a page, never a scan of messages.
/// </summary>
public sealed class Conversation
{
    public required string UserId { get; init; }

    public required string PeerId { get; init; }

    public required string LastMessageId { get; set; }

    /// <summary>The last message's number in the user's sequence: conversations list newest first by it.</summary>
    public required long LastSequence { get; set; }

    /// <summary>The user's read marker: a message id, or null while the user has marked nothing.</summary>
    public string? ReadUpTo { get; set; }

    /// <summary>The marker's <see cref="Message.ConversationSequence"/>; 0 while there is none.</summary>
    public long ReadSequence { get; set; }

    /// <summary>Messages from the peer stored after the marker.</summary>
    public int UnreadCount { get; set; }

    /// <summary>The id both users' messages carry: the two user ids in ordinal order, so it is the same from either side.</summary>
    public static string IdOf(string userId, string peerId) =>
        string.CompareOrdinal(userId, peerId) <= 0 ? $"{userId}:{peerId}" : $"{peerId}:{userId}";
}
