using Chat.Domain.Messaging;

namespace Chat.Api.Messaging;

/// <summary>What the server calls on clients.</summary>
public interface IChatClient
{
    /// <summary>A message to this user, stored.</summary>
    Task ReceiveMessage(ChatMessage message);

    /// <summary>A message this user stored to someone else from another of their connections.</summary>
    Task MessageSent(ChatMessage message);

    /// <summary>A read marker moved in one of this user's conversations.</summary>
    Task MessagesRead(MessagesRead read);

    /// <summary>Live delivery to this connection may have missed messages: sync.</summary>
    Task SyncNeeded();

    /// <summary>A contact came online.</summary>
    Task UserOnline(UserOnline online);

    /// <summary>A contact's last connection ended (and they did not come back within the grace period).</summary>
    Task UserOffline(UserOffline offline);

    /// <summary>A contact is typing to this user.</summary>
    Task UserTyping(UserTyping typing);
}

public sealed record UserOnline(string UserId);

public sealed record UserOffline(string UserId, DateTimeOffset LastSeenAt);

public sealed record UserTyping(string UserId);

/// <summary><c>ReaderId</c> marked their conversation with <c>PeerId</c> read up to and including <c>UpToId</c>.</summary>
public sealed record MessagesRead(string ReaderId, string PeerId, string UpToId, DateTimeOffset ReadAt);

/// <summary>The argument of <c>Send</c>. Fields are nullable so that a missing one gets an error naming it.</summary>
public sealed record SendRequest(string? ReceiverId, string? Text, string? ClientMessageId);

/// <summary>The answer of <c>MarkRead</c>: the caller's marker as it now stands.</summary>
public sealed record ReadMarker(string PeerId, string UpToId, int UnreadCount);
