namespace Chat.Domain.Messaging;

/// <summary>What a receiver's connections get.</summary>
public sealed record ChatMessage(string Id, string SenderId, string ReceiverId, string Text, DateTimeOffset SentAt);

/// <summary>What the sender gets back from <c>SendRaw</c>.</summary>
public sealed record SendReceipt(string Id, string ReceiverId, DateTimeOffset SentAt);
