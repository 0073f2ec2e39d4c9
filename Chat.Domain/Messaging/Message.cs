namespace Chat.Domain.Messaging;

/// <summary>
/// A stored message. Besides its id it carries its place in the order in which messages became visible, taken in the
/// transaction that stored it from one sequence whose counter stays locked until that transaction commits: a
/// message's number is greater than that of every message committed before it, so each user's messages (which sync
/// follows) and each conversation's are in visibility order by number. The three numbers below are that one number
/// for messages stored since the sequence is shared; older messages kept their sender's and receiver's own sequences,
/// all smaller than the shared sequence's first number, so every order still holds across the change.
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

    /// <summary>The message's number in its conversation (of older messages: in the sequence of the conversation's lower user id).</summary>
    public required long ConversationSequence { get; init; }

    /// <summary>This message's number in <paramref name="userId"/>'s sequence; the user is its sender or receiver.</summary>
    public long SequenceOf(string userId) => SenderId == userId ? SenderSequence : ReceiverSequence;

    public ChatMessage ToChatMessage() => new(Id, SenderId, ReceiverId, Text, SentAt, ClientMessageId);
}
