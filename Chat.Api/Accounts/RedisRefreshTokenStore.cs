using Chat.Api.Platform;
using Chat.Domain.Auth;
using StackExchange.Redis;

namespace Chat.Api.Accounts;

/// <summary>
/// Each token is a hash (user, family, family expiry, used) keyed by the token's SHA-256 and expiring with its family;
/// each family is a key whose presence means "not revoked". Rotation and revocation are single Lua scripts, so
/// concurrent refreshes with one token cannot both win.
/// </summary>
internal sealed class RedisRefreshTokenStore(IConnectionMultiplexer redis) : IRefreshTokenStore
{
    // KEYS: the token, its replacement. ARGV: the family key prefix. Returns {outcome, user, family, expires}.
    private const string Rotate = """
        local token = redis.call('HMGET', KEYS[1], 'user', 'family', 'expires', 'used')
        if not token[1] then return {0} end
        local family = ARGV[1] .. token[2]
        if redis.call('EXISTS', family) == 0 then return {0} end
        if token[4] == '1' then
            redis.call('DEL', family)
            return {2, token[1], token[2], token[3]}
        end
        redis.call('HSET', KEYS[1], 'used', '1')
        redis.call('HSET', KEYS[2], 'user', token[1], 'family', token[2], 'expires', token[3], 'used', '0')
        redis.call('PEXPIREAT', KEYS[2], token[3])
        return {1, token[1], token[2], token[3]}
        """;

    private const string Revoke = """
        local family = redis.call('HGET', KEYS[1], 'family')
        if family then redis.call('DEL', ARGV[1] .. family) end
        return 1
        """;

    public async Task StoreAsync(string tokenHash, RefreshTokenEntry entry, CancellationToken cancellationToken = default)
    {
        var expires = entry.FamilyExpiresAt.ToUnixTimeMilliseconds();
        var transaction = redis.GetDatabase().CreateTransaction();
        RedisKey token = RedisKeys.RefreshToken(tokenHash);
        RedisKey family = RedisKeys.RefreshFamily(entry.FamilyId);
        _ = transaction.StringSetAsync(family, entry.UserId);
        _ = transaction.KeyExpireAsync(family, entry.FamilyExpiresAt.UtcDateTime);
        _ = transaction.HashSetAsync(token,
        [
            new HashEntry("user", entry.UserId),
            new HashEntry("family", entry.FamilyId),
            new HashEntry("expires", expires),
            new HashEntry("used", 0),
        ]);
        _ = transaction.KeyExpireAsync(token, entry.FamilyExpiresAt.UtcDateTime);
        await transaction.ExecuteAsync();
    }

    public async Task<RotationResult> RotateAsync(string tokenHash, string replacementHash, CancellationToken cancellationToken = default)
    {
        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(
            Rotate,
            [RedisKeys.RefreshToken(tokenHash), RedisKeys.RefreshToken(replacementHash)],
            [RedisKeys.RefreshFamilyPrefix]))!;
        var outcome = (int)result[0] switch
        {
            1 => RotationOutcome.Rotated,
            2 => RotationOutcome.ReuseDetected,
            _ => RotationOutcome.Rejected,
        };
        var entry = outcome == RotationOutcome.Rejected
            ? null
            : new RefreshTokenEntry((string)result[1]!, (string)result[2]!, DateTimeOffset.FromUnixTimeMilliseconds((long)result[3]));
        return new RotationResult(outcome, entry);
    }

    public async Task RevokeFamilyAsync(string tokenHash, CancellationToken cancellationToken = default) =>
        await redis.GetDatabase().ScriptEvaluateAsync(Revoke, [RedisKeys.RefreshToken(tokenHash)], [RedisKeys.RefreshFamilyPrefix]);
}
