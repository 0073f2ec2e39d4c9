using System.Diagnostics.CodeAnalysis;

namespace Chat.Domain.Messaging;

/// <summary>The <c>receiverID:message</c> payload of <c>SendRaw</c>, split at the first ':'.</summary>
public readonly record struct RawMessage(string ReceiverId, string Text)
{
    public const int MaxTextLength = 4096;

    public static bool TryParse(string? raw, out RawMessage message, [NotNullWhen(false)] out string? error)
    {
        message = default;
        var separator = raw?.IndexOf(':') ?? -1;
        if (raw is null || separator < 0)
        {
            error = "Expected 'receiverId:message'.";
            return false;
        }

        if (separator == 0)
        {
            error = "The receiver id before ':' is empty.";
            return false;
        }

        var text = raw[(separator + 1)..];
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "The message after ':' is empty.";
            return false;
        }

        if (text.Length > MaxTextLength)
        {
            error = $"The message is {text.Length} characters long; the limit is {MaxTextLength}.";
            return false;
        }

        message = new RawMessage(raw[..separator], text);
        error = null;
        return true;
    }
}
