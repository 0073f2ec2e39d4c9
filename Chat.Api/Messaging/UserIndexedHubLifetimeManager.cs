using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Chat.Api.Messaging;

/// <summary>
/// Single-instance routing for <c>Clients.User</c> in time independent of how many connections the instance holds.
/// SignalR's default manager finds a user's connections by scanning all of them on every send; this one keeps them
/// indexed by user id, inside SignalR's own extension point, and leaves everything else to the default manager.
/// </summary>
internal sealed class UserIndexedHubLifetimeManager<THub>(ILogger<DefaultHubLifetimeManager<THub>> logger)
    : DefaultHubLifetimeManager<THub>(logger)
    where THub : Hub
{
    private readonly ConcurrentDictionary<string, UserConnections> users = new(StringComparer.Ordinal);

    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        await base.OnConnectedAsync(connection);
        if (connection.UserIdentifier is { } user)
        {
            Add(user, connection);
        }
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        if (connection.UserIdentifier is { } user)
        {
            Remove(user, connection);
        }

        await base.OnDisconnectedAsync(connection);
    }

    public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        if (!users.TryGetValue(userId, out var entry) || entry.Connections is not { Length: > 0 } connections)
        {
            return Task.CompletedTask;
        }

        // Serialized once per protocol, however many connections the user has.
        var message = new SerializedHubMessage(new InvocationMessage(methodName, args));
        if (connections.Length == 1)
        {
            return connections[0].WriteAsync(message, cancellationToken).AsTask();
        }

        var writes = new Task[connections.Length];
        for (var i = 0; i < connections.Length; i++)
        {
            writes[i] = connections[i].WriteAsync(message, cancellationToken).AsTask();
        }

        return Task.WhenAll(writes);
    }

    public override Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        Task.WhenAll(userIds.Select(user => SendUserAsync(user, methodName, args, cancellationToken)));

    private void Add(string user, HubConnectionContext connection)
    {
        while (true)
        {
            var entry = users.GetOrAdd(user, static _ => new UserConnections());
            lock (entry)
            {
                // An entry emptied and dropped by a concurrent disconnect must not be revived: take a fresh one.
                if (!entry.Dropped)
                {
                    entry.Connections = [.. entry.Connections, connection];
                    return;
                }
            }
        }
    }

    private void Remove(string user, HubConnectionContext connection)
    {
        if (!users.TryGetValue(user, out var entry))
        {
            return;
        }

        lock (entry)
        {
            entry.Connections = Array.FindAll(entry.Connections, c => c != connection);
            if (entry.Connections.Length == 0)
            {
                entry.Dropped = true;
                users.TryRemove(new KeyValuePair<string, UserConnections>(user, entry));
            }
        }
    }

    private sealed class UserConnections
    {
        // Replaced whole (copy on write) under the entry's lock, read without it by senders.
        public volatile HubConnectionContext[] Connections = [];

        public bool Dropped;
    }
}
