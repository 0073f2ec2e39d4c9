using Chat.Domain.Auth;
using StackExchange.Redis;

namespace Chat.Infrastructure.Redis;

/// <summary>Each token is a hash keyed by the token's SHA-256, expiring with its family.</summary>
internal sealed class RedisRefreshTokenStore(IConnectionMultiplexer redis) : IRefreshTokenStore
{
    private const string TokenKeyPrefix = "chat:refresh:";

    public async Task StoreAsync(string tokenHash, RefreshTokenEntry entry, CancellationToken cancellationToken = default)
    {
        var db = redis.GetDatabase();
        RedisKey key = TokenKeyPrefix + tokenHash;
        var transaction = db.CreateTransaction();
        _ = transaction.HashSetAsync(key,
        [
            new HashEntry("user", entry.UserId),
            new HashEntry("family", entry.FamilyId),
            new HashEntry("expires", entry.FamilyExpiresAt.ToUnixTimeMilliseconds()),
        ]);
        _ = transaction.KeyExpireAsync(key, entry.FamilyExpiresAt.UtcDateTime);
        await transaction.ExecuteAsync();
    }
}
