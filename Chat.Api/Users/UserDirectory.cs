using System.Collections.Concurrent;
using Chat.Api.Platform.Persistence;
using Chat.Domain.Users;
using Microsoft.EntityFrameworkCore;

namespace Chat.Api.Users;

/// <summary>
/// The database is the only list of users; this caches the ids it has confirmed. A signup committed on any instance
/// is therefore a known receiver on every instance at once, and a known receiver costs no round trip at all.
/// Unknown ids are not cached (they may sign up any moment); the message rate limit bounds what they cost.
/// </summary>
internal sealed class UserDirectory(IServiceScopeFactory scopes) : IUserDirectory
{
    // About 150 bytes an id: at most some 15 MB, then the cache starts over.
    private const int MaxCachedIds = 100_000;

    private readonly ConcurrentDictionary<string, byte> known = new(StringComparer.Ordinal);

    public async ValueTask<bool> ContainsAsync(string userId, CancellationToken cancellationToken = default)
    {
        if (known.ContainsKey(userId))
        {
            return true;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        if (!await db.Users.AnyAsync(u => u.Id == userId, cancellationToken))
        {
            return false;
        }

        if (known.Count >= MaxCachedIds)
        {
            known.Clear();
        }

        known.TryAdd(userId, 0);
        return true;
    }
}
