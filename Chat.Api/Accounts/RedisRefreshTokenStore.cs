using Chat.Api.Platform;
using Chat.Domain.Auth;
using StackExchange.Redis;

namespace Chat.Api.Accounts;

/// <summary>
/// Each token is a hash (user, family, family expiry, used) keyed by the token's SHA-256 and expiring with its family;
/// each family is a key whose presence means "live" (not revoked, not expired), and each user has an index of their
/// families by creation, for "log out everywhere" and the session cap. Every operation is a single Lua script, so
/// concurrent refreshes with one token cannot both win.
/// </summary>
internal sealed class RedisRefreshTokenStore(IConnectionMultiplexer redis) : IRefreshTokenStore
{
    // KEYS: the token, its replacement. ARGV: the family key prefix, the ended-family key prefix. Returns {outcome,
    // user, family, expires}.
    private const string Rotate = """
        local token = redis.call('HMGET', KEYS[1], 'user', 'family', 'expires', 'used')
        if not token[1] then return {0} end
        local family = ARGV[1] .. token[2]
        if redis.call('EXISTS', family) == 0 then return {0} end
        if token[4] == '1' then
            local ttl = redis.call('PTTL', family)
            redis.call('DEL', family)
            if ttl > 0 then redis.call('SET', ARGV[2] .. token[2], 1, 'PX', ttl) end
            return {2, token[1], token[2], token[3]}
        end
        redis.call('HSET', KEYS[1], 'used', '1')
        redis.call('HSET', KEYS[2], 'user', token[1], 'family', token[2], 'expires', token[3], 'used', '0')
        redis.call('PEXPIREAT', KEYS[2], token[3])
        return {1, token[1], token[2], token[3]}
        """;

    // KEYS: the token, its family, the user's family index (scored by creation). ARGV: user, family, expiry (ms),
    // the most live families a user may hold, the family key prefix, the ended-family key prefix. Returns the families ended to make room, oldest
    // first; families no longer live leave the index on the way.
    private const string Store = """
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        redis.call('SET', KEYS[2], ARGV[1], 'PXAT', ARGV[3])
        redis.call('HSET', KEYS[1], 'user', ARGV[1], 'family', ARGV[2], 'expires', ARGV[3], 'used', '0')
        redis.call('PEXPIREAT', KEYS[1], ARGV[3])
        redis.call('ZADD', KEYS[3], now, ARGV[2])
        redis.call('PEXPIREAT', KEYS[3], ARGV[3])
        local live = {}
        for _, family in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
            if redis.call('EXISTS', ARGV[5] .. family) == 1 then live[#live + 1] = family else redis.call('ZREM', KEYS[3], family) end
        end
        local ended = {}
        for i = 1, #live - tonumber(ARGV[4]) do
            local ttl = redis.call('PTTL', ARGV[5] .. live[i])
            redis.call('DEL', ARGV[5] .. live[i])
            if ttl > 0 then redis.call('SET', ARGV[6] .. live[i], 1, 'PX', ttl) end
            redis.call('ZREM', KEYS[3], live[i])
            ended[#ended + 1] = live[i]
        end
        return ended
        """;

    // KEYS: the user's family index. ARGV: the family key prefix, the ended-family key prefix.
    private const string RevokeUser = """
        for _, family in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
            local ttl = redis.call('PTTL', ARGV[1] .. family)
            redis.call('DEL', ARGV[1] .. family)
            if ttl > 0 then redis.call('SET', ARGV[2] .. family, 1, 'PX', ttl) end
        end
        return redis.call('DEL', KEYS[1])
        """;

    // ARGV: the ended-family key prefix, then family ids. Returns the ended ones.
    private const string Ended = """
        local ended = {}
        for i = 2, #ARGV do
            if redis.call('EXISTS', ARGV[1] .. ARGV[i]) == 1 then ended[#ended + 1] = ARGV[i] end
        end
        return ended
        """;

    private const string Revoke = """
        local family = redis.call('HGET', KEYS[1], 'family')
        if family then
            local ttl = redis.call('PTTL', ARGV[1] .. family)
            redis.call('DEL', ARGV[1] .. family)
            if ttl > 0 then redis.call('SET', ARGV[2] .. family, 1, 'PX', ttl) end
        end
        return 1
        """;

    public async Task<IReadOnlyList<string>> StoreAsync(
        string tokenHash, RefreshTokenEntry entry, int maxSessions, CancellationToken cancellationToken = default)
    {
        var ended = (string[])(await redis.GetDatabase().ScriptEvaluateAsync(
            Store,
            [RedisKeys.RefreshToken(tokenHash), RedisKeys.RefreshFamily(entry.FamilyId), RedisKeys.RefreshUser(entry.UserId)],
            [entry.UserId, entry.FamilyId, entry.FamilyExpiresAt.ToUnixTimeMilliseconds(), maxSessions, RedisKeys.RefreshFamilyPrefix, RedisKeys.EndedFamilyPrefix]))!;
        return ended;
    }

    public async Task<RotationResult> RotateAsync(string tokenHash, string replacementHash, CancellationToken cancellationToken = default)
    {
        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(
            Rotate,
            [RedisKeys.RefreshToken(tokenHash), RedisKeys.RefreshToken(replacementHash)],
            [RedisKeys.RefreshFamilyPrefix, RedisKeys.EndedFamilyPrefix]))!;
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
        await redis.GetDatabase().ScriptEvaluateAsync(Revoke, [RedisKeys.RefreshToken(tokenHash)], [RedisKeys.RefreshFamilyPrefix, RedisKeys.EndedFamilyPrefix]);

    public async Task RevokeUserAsync(string userId, CancellationToken cancellationToken = default) =>
        await redis.GetDatabase().ScriptEvaluateAsync(RevokeUser, [RedisKeys.RefreshUser(userId)], [RedisKeys.RefreshFamilyPrefix, RedisKeys.EndedFamilyPrefix]);

    public async Task<IReadOnlySet<string>> EndedFamiliesAsync(IReadOnlyCollection<string> familyIds, CancellationToken cancellationToken = default)
    {
        if (familyIds.Count == 0)
        {
            return new HashSet<string>();
        }

        var ended = (string[])(await redis.GetDatabase().ScriptEvaluateAsync(
            Ended, [], [RedisKeys.EndedFamilyPrefix, .. familyIds.Select(id => (RedisValue)id)]))!;
        return ended.ToHashSet(StringComparer.Ordinal);
    }
}
