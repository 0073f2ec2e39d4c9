namespace Chat.Domain.Presence;

/// <param name="Connections">The user's live connections on every instance, this one included.</param>
/// <param name="CameOnline">The user had no live connection, and was not back within the grace period.</param>
public readonly record struct Arrival(int Connections, bool CameOnline);

/// <summary>A user gone for longer than the grace period: last seen then.</summary>
public sealed record Departure(string UserId, DateTimeOffset LastSeenAt);

/// <summary>
/// Who has at least one live hub connection, on any instance, and who came and went. Routing does not use this:
/// SignalR's <c>Clients.User</c> does. A user whose last connection ends is "away"; a reconnect within the grace
/// period makes it as if nothing happened, and otherwise the departure is handed out once, on one instance.
/// </summary>
public interface IUserPresence
{
    /// <summary>
    /// Reserves room for a connection being negotiated: true while the user's live connections and open
    /// reservations, on every instance, are fewer than <paramref name="limit"/>. A reservation is spent when a
    /// connection of the user starts, or lapses after a while.
    /// </summary>
    Task<bool> TryReserveAsync(string userId, int limit, CancellationToken cancellationToken = default);

    Task<Arrival> ConnectedAsync(string userId, CancellationToken cancellationToken = default);

    /// <returns>The user's live connections left on every instance.</returns>
    Task<int> DisconnectedAsync(string userId, CancellationToken cancellationToken = default);

    Task<IReadOnlyCollection<string>> GetOnlineUserIdsAsync(CancellationToken cancellationToken = default);

    /// <summary>Which of <paramref name="userIds"/> are online.</summary>
    Task<IReadOnlySet<string>> WhichOnlineAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken = default);

    /// <summary>
    /// The users away for longer than the grace period with no connection since, and those of instances that died,
    /// each handed out once across all instances.
    /// </summary>
    Task<IReadOnlyList<Departure>> TakeDeparturesAsync(CancellationToken cancellationToken = default);
}
