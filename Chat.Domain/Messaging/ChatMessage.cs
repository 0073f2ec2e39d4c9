namespace Chat.Domain.Messaging;

/// <summary>A stored message as every client sees it: live, in history, in sync and in conversations.</summary>
public sealed record ChatMessage(string Id, string SenderId, string ReceiverId, string Text, DateTimeOffset SentAt, string? ClientMessageId);

/// <summary>What the sender gets back from <c>SendRaw</c> and <c>Send</c>: the message is stored.</summary>
public sealed record SendReceipt(string Id, string ReceiverId, DateTimeOffset SentAt, string? ClientMessageId)
{
    public static SendReceipt Of(ChatMessage message) => new(message.Id, message.ReceiverId, message.SentAt, message.ClientMessageId);
}
