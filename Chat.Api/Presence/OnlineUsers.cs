using Chat.Api.Platform.Persistence;
using Chat.Api.Users;
using Chat.Domain.Presence;
using Microsoft.EntityFrameworkCore;

namespace Chat.Api.Presence;

/// <summary>
/// Everyone online, as <c>GET /api/users/online</c> lists them. Reading it costs a presence read of every instance and
/// a query over every online id, so an instance makes one such fetch at a time and shares it with every caller who
/// asks meanwhile or within <see cref="MaxAge"/> after: a flood of calls costs Redis and the database one fetch a
/// second. A connection starting or ending on this instance makes the next caller fetch afresh, so users see their own
/// instance's changes at once and other instances' within <see cref="MaxAge"/>.
/// </summary>
public sealed class OnlineUsers(IUserPresence presence, IServiceScopeFactory scopes, TimeProvider time)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private readonly Lock gate = new();
    private Task<IReadOnlyList<UserSummary>>? fetch;
    private long fetchedAt;
    private int version;
    private int fetchedVersion;

    public Task<IReadOnlyList<UserSummary>> GetAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            // A failed fetch is not shared with later callers: they try again.
            var stale = fetch is null || fetchedVersion != Volatile.Read(ref version) || fetch.IsFaulted || fetch.IsCanceled
                || (fetch.IsCompleted && time.GetElapsedTime(fetchedAt) > MaxAge);
            if (stale)
            {
                fetchedAt = time.GetTimestamp();
                fetchedVersion = Volatile.Read(ref version);
                fetch = FetchAsync();
            }

            return fetch!.WaitAsync(cancellationToken);
        }
    }

    /// <summary>A connection started or ended here: what was fetched before may miss it.</summary>
    public void Changed() => Interlocked.Increment(ref version);

    private async Task<IReadOnlyList<UserSummary>> FetchAsync()
    {
        // Shared by callers with different cancellation tokens, so it runs to the end whoever gives up.
        var ids = await presence.GetOnlineUserIdsAsync();
        if (ids.Count == 0)
        {
            return [];
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        // Inlined as IN (...): portable across MariaDB, MySQL and SQLite, unlike a JSON-table parameter.
        return await db.Users.AsNoTracking()
            .Where(u => EF.Constant(ids).Contains(u.Id))
            .OrderBy(u => u.Username)
            .Select(u => new UserSummary(u.Id, u.Username, u.AvatarUrl))
            .ToListAsync();
    }
}
