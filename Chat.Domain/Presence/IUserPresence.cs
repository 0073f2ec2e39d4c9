namespace Chat.Domain.Presence;

/// <summary>
/// Who has at least one live hub connection, on any instance. Routing does not use this: SignalR's
/// <c>Clients.User</c> does; presence only answers "who is online".
/// </summary>
public interface IUserPresence
{
    /// <summary>Counts a new connection; returns the user's live connections on every instance, this one included.</summary>
    Task<int> ConnectedAsync(string userId, CancellationToken cancellationToken = default);

    Task DisconnectedAsync(string userId, CancellationToken cancellationToken = default);

    Task<IReadOnlyCollection<string>> GetOnlineUserIdsAsync(CancellationToken cancellationToken = default);
}
