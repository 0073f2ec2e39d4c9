namespace Chat.Domain.Messaging;

/// <summary>
/// A stored message. Besides its id it carries its place in three orders, all taken in the transaction that stored
/// it: in its sender's and its receiver's sequence (the order in which the message became visible to each of them,
/// which sync follows) and in its conversation's.
/// </summary>
public sealed class Message
{
    public required string Id { get; init; }

    /// <summary><see cref="Conversation.IdOf"/> of sender and receiver.</summary>
    public required string ConversationId { get; init; }

    public required string SenderId { get; init; }

    public required string ReceiverId { get; init; }

    public required string Text { get; init; }

    public required DateTimeOffset SentAt { get; init; }

    /// <summary>The sender's idempotency key; unique per sender.</summary>
    public string? ClientMessageId { get; init; }

    /// <summary>The message's number in the sender's sequence.</summary>
    public required long SenderSequence { get; init; }

    /// <summary>The message's number in the receiver's sequence (the sender's, when they are the same user).</summary>
    public required long ReceiverSequence { get; init; }

    /// <summary>
    /// The message's number in its conversation: the sequence number of the conversation's lower user id. Every
    /// message of a conversation is stored under both users' sequence locks, so both users' sequences order a
    /// conversation's messages alike, and either stands for the conversation's stored order.
    /// </summary>
    public required long ConversationSequence { get; init; }

    /// <summary>This message's number in <paramref name="userId"/>'s sequence; the user is its sender or receiver.</summary>
    public long SequenceOf(string userId) => SenderId == userId ? SenderSequence : ReceiverSequence;

    public ChatMessage ToChatMessage() => new(Id, SenderId, ReceiverId, Text, SentAt, ClientMessageId);
}
