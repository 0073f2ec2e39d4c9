using Microsoft.AspNetCore.SignalR;

namespace Chat.Api.Messaging;

/// <summary>Whom a <see cref="Delivery"/> is for: every connection, or those of the named connections, groups or users.</summary>
internal enum DeliveryTarget : byte
{
    All = 0,
    Connections = 1,
    Groups = 2,
    Users = 3,
}

/// <summary>
/// One hub invocation on its way to connections, serialized once for every protocol the server speaks: what
/// <see cref="ChatHubLifetimeManager{THub}"/> writes to this instance's connections and what
/// <see cref="RedisBackplane"/> carries to the other instances.
/// </summary>
internal sealed record Delivery(DeliveryTarget Target, IReadOnlyList<string> Names, IReadOnlyList<string> ExceptConnections, SerializedMessage[] Payload)
{
    private SerializedHubMessage? message;

    /// <summary>The payload as connections write it (each picks its own protocol's bytes); made once, when first needed.</summary>
    public SerializedHubMessage Message => message ??= new SerializedHubMessage(Payload);
}
