using Chat.Domain.Messaging;

namespace Chat.Api.Messaging;

/// <summary>What the server calls on clients.</summary>
public interface IChatClient
{
    Task ReceiveMessage(ChatMessage message);
}
