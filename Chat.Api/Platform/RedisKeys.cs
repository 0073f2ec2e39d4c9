namespace Chat.Api.Platform;

/// <summary>
/// Every Redis key and channel name Chat uses, defined once. All start with "chat", so one Redis can serve other
/// applications beside it.
/// </summary>
public static class RedisKeys
{
    /// <summary>A refresh token's record (a hash), by the SHA-256 of the token.</summary>
    public const string RefreshTokenPrefix = "chat:refresh:";

    /// <summary>A refresh-token family: live while the key exists.</summary>
    public const string RefreshFamilyPrefix = "chat:refresh-family:";

    /// <summary>
    /// A family that was ended (revoked), kept until it would have expired: its access tokens are refused. Kept apart
    /// from the family keys so that a Redis that lost its data ends no session by that.
    /// </summary>
    public const string EndedFamilyPrefix = "chat:refresh-ended:";

    /// <summary>The live instances, scored by the time their presence hash expires.</summary>
    public const string PresenceInstances = "chat:presence:instances";

    /// <summary>One instance's connection counts per user (a hash).</summary>
    public const string PresenceInstancePrefix = "chat:presence:instance:";

    /// <summary>Users whose last connection ended, scored by when (ms): announced offline once the grace period passed.</summary>
    public const string PresenceAway = "chat:presence:away";

    /// <summary>An event a throttle let through lately (typing, per sender and peer): the key expires with the period.</summary>
    public static string Throttle(string name, string key) => $"chat:throttle:{name}:{key}";

    /// <summary>The channel every instance publishes its hub deliveries on and listens to (Messaging/RedisBackplane.cs).</summary>
    public static string Backplane(string hub) => "chat:backplane:" + hub;

    public static string RefreshToken(string tokenHash) => RefreshTokenPrefix + tokenHash;

    public static string RefreshFamily(string familyId) => RefreshFamilyPrefix + familyId;

    /// <summary>A user's refresh-token families (sessions), scored by when each began.</summary>
    public static string RefreshUser(string userId) => "chat:refresh-user:" + userId;

    public static string PresenceInstance(string instanceId) => PresenceInstancePrefix + instanceId;

    /// <summary>A user's hub connections negotiated but not started yet, scored by when the reservation lapses.</summary>
    public static string Negotiations(string userId) => "chat:presence:negotiating:" + userId;

    /// <summary>One partition of a rate limit shared by all instances.</summary>
    public static string RateLimit(string limit, string partition) => $"chat:limit:{limit}:{partition}";
}
