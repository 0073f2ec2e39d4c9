using System.Diagnostics.CodeAnalysis;

namespace Chat.Domain.Messaging;

/// <summary>A message a sender asks to store, its receiver and text checked by the contract's rules.</summary>
public readonly record struct OutgoingMessage(string ReceiverId, string Text, string? ClientMessageId)
{
    public const int MaxTextLength = 4096;
    public const int MaxClientMessageIdLength = 64;

    public static bool TryCreate(
        string? receiverId, string? text, string? clientMessageId, out OutgoingMessage message, [NotNullWhen(false)] out string? error)
    {
        message = default;
        error = ReceiverError(receiverId) ?? TextError(text) ?? ClientMessageIdError(clientMessageId);
        if (error is not null)
        {
            return false;
        }

        message = new OutgoingMessage(receiverId!, text!, clientMessageId);
        return true;
    }

    public static string? ReceiverError(string? receiverId) =>
        string.IsNullOrEmpty(receiverId) ? "The receiver id is empty." : null;

    public static string? TextError(string? text) => text switch
    {
        _ when string.IsNullOrWhiteSpace(text) => "The message is empty.",
        { Length: > MaxTextLength } => $"The message is {text.Length} characters long; the limit is {MaxTextLength}.",
        _ => null,
    };

    /// <summary>Null or 1–64 characters of <c>[A-Za-z0-9_-]</c> (a UUID fits).</summary>
    public static string? ClientMessageIdError(string? clientMessageId) => clientMessageId switch
    {
        null => null,
        { Length: 0 or > MaxClientMessageIdLength } =>
            $"The clientMessageId must be 1 to {MaxClientMessageIdLength} characters long.",
        _ when !clientMessageId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') =>
            "The clientMessageId may contain only letters, digits, '_' and '-'.",
        _ => null,
    };
}
