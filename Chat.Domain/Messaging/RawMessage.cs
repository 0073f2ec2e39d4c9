using System.Diagnostics.CodeAnalysis;

namespace Chat.Domain.Messaging;

/// <summary>The <c>receiverID:message</c> payload of <c>SendRaw</c>, split at the first ':'.</summary>
public static class RawMessage
{
    public static bool TryParse(string? raw, out OutgoingMessage message, [NotNullWhen(false)] out string? error)
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

        return OutgoingMessage.TryCreate(raw[..separator], text, clientMessageId: null, out message, out error);
    }
}
