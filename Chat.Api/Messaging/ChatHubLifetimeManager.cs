using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using StackExchange.Redis;

namespace Chat.Api.Messaging;

/// <summary>
/// How <c>Clients.User</c>, <c>Clients.Group</c> and the rest reach connections, inside SignalR's extension point:
/// this instance's connections are written to at once, found through indexes by user and group; with Redis, the
/// same delivery goes to every other instance through <see cref="RedisBackplane"/>, batched. SignalR's stock Redis
/// backplane instead publishes every send on its own, even when the receiver is connected to the sending instance,
/// and hears it back from Redis before writing it.
/// </summary>
/// <remarks>
/// Groups are local knowledge: each instance knows the groups of its own connections, and a group send reaches
/// every instance. So a connection joins or leaves groups on its own instance (as <c>Groups</c> in a hub method
/// does); adding a connection of another instance is refused. Client results are not supported.
/// </remarks>
internal sealed class ChatHubLifetimeManager<THub> : HubLifetimeManager<THub>
    where THub : Hub
{
    private readonly HubConnectionStore connections = new();
    private readonly ConnectionIndex users = new();
    private readonly ConnectionIndex groups = new();
    private readonly IHubProtocol[] protocols;
    private readonly RedisBackplane? backplane;

    public ChatHubLifetimeManager(IHubProtocolResolver protocols, ILogger<RedisBackplane> logger, IConnectionMultiplexer? redis = null)
    {
        this.protocols = [.. protocols.AllProtocols];
        if (redis is not null)
        {
            backplane = new RedisBackplane(redis, RedisChannel.Literal(Platform.RedisKeys.Backplane(typeof(THub).Name)), this.protocols, DeliverHere, logger);
        }
    }

    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        if (backplane is not null)
        {
            // Before the connection counts as started: from then on it hears the other instances' sends.
            await backplane.SubscribedAsync();
        }

        connection.Features.Set(new ConnectionGroups());
        connections.Add(connection);
        if (connection.UserIdentifier is { } user)
        {
            users.Add(user, connection);
        }
    }

    public override Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        connections.Remove(connection);
        if (connection.UserIdentifier is { } user)
        {
            users.Remove(user, connection);
        }

        if (connection.Features.Get<ConnectionGroups>() is { } joined)
        {
            lock (joined)
            {
                foreach (var group in joined.Names)
                {
                    groups.Remove(group, connection);
                }

                joined.Names.Clear();
            }
        }

        return Task.CompletedTask;
    }

    public override Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
    {
        var (connection, joined) = Local(connectionId);
        lock (joined)
        {
            if (joined.Names.Add(groupName))
            {
                groups.Add(groupName, connection);
            }
        }

        return Task.CompletedTask;
    }

    public override Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
    {
        var (connection, joined) = Local(connectionId);
        lock (joined)
        {
            if (joined.Names.Remove(groupName))
            {
                groups.Remove(groupName, connection);
            }
        }

        return Task.CompletedTask;
    }

    public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(DeliveryTarget.All, [], [], methodName, args);

    public override Task SendAllExceptAsync(string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        SendAsync(DeliveryTarget.All, [], excludedConnectionIds, methodName, args);

    public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(DeliveryTarget.Connections, [connectionId], [], methodName, args);

    public override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(DeliveryTarget.Connections, connectionIds, [], methodName, args);

    public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(DeliveryTarget.Groups, [groupName], [], methodName, args);

    public override Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(DeliveryTarget.Groups, groupNames, [], methodName, args);

    public override Task SendGroupExceptAsync(string groupName, string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        SendAsync(DeliveryTarget.Groups, [groupName], excludedConnectionIds, methodName, args);

    public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(DeliveryTarget.Users, [userId], [], methodName, args);

    public override Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(DeliveryTarget.Users, userIds, [], methodName, args);

    private Task SendAsync(DeliveryTarget target, IReadOnlyList<string> names, IReadOnlyList<string> except, string methodName, object?[] args)
    {
        var invocation = new InvocationMessage(methodName, args);
        var payload = new SerializedMessage[protocols.Length];
        for (var i = 0; i < protocols.Length; i++)
        {
            payload[i] = new SerializedMessage(protocols[i].Name, protocols[i].GetMessageBytes(invocation));
        }

        var delivery = new Delivery(target, names, except, payload);
        var here = DeliverHere(delivery);
        // A connection lives on one instance: when all are here, nobody else needs to hear of it.
        if (backplane is null || (target == DeliveryTarget.Connections && AllHere(names)))
        {
            return here;
        }

        var published = backplane.PublishAsync(delivery);
        return here.IsCompletedSuccessfully ? published : Task.WhenAll(here, published);
    }

    /// <summary>Writes a delivery to the connections of this instance it is for, in the order deliveries come.</summary>
    private Task DeliverHere(Delivery delivery)
    {
        List<Task>? pending = null;
        switch (delivery.Target)
        {
            case DeliveryTarget.All:
                foreach (var connection in connections)
                {
                    Write(connection, delivery, ref pending);
                }

                break;
            case DeliveryTarget.Connections:
                foreach (var id in delivery.Names)
                {
                    if (connections[id] is { } connection)
                    {
                        Write(connection, delivery, ref pending);
                    }
                }

                break;
            default:
                var index = delivery.Target == DeliveryTarget.Users ? users : groups;
                foreach (var name in delivery.Names)
                {
                    foreach (var connection in index[name])
                    {
                        Write(connection, delivery, ref pending);
                    }
                }

                break;
        }

        return pending switch
        {
            null => Task.CompletedTask,
            [var one] => one,
            _ => Task.WhenAll(pending),
        };
    }

    private static void Write(HubConnectionContext connection, Delivery delivery, ref List<Task>? pending)
    {
        if (delivery.ExceptConnections.Count > 0 && delivery.ExceptConnections.Contains(connection.ConnectionId))
        {
            return;
        }

        var write = connection.WriteAsync(delivery.Message);
        if (!write.IsCompletedSuccessfully)
        {
            (pending ??= []).Add(write.AsTask());
        }
    }

    private bool AllHere(IReadOnlyList<string> connectionIds)
    {
        foreach (var id in connectionIds)
        {
            if (connections[id] is null)
            {
                return false;
            }
        }

        return true;
    }

    private (HubConnectionContext Connection, ConnectionGroups Joined) Local(string connectionId) =>
        connections[connectionId] is { } connection && connection.Features.Get<ConnectionGroups>() is { } joined
            ? (connection, joined)
            : throw new InvalidOperationException(
                $"Connection {connectionId} is not on this instance: a connection joins and leaves groups on its own instance.");

    /// <summary>The groups a connection joined, to leave them when it ends.</summary>
    private sealed class ConnectionGroups
    {
        public HashSet<string> Names { get; } = new(StringComparer.Ordinal);
    }
}
