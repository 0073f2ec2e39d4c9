using System.Collections.Concurrent;
using Chat.Domain.Presence;

namespace Chat.Api.Presence;

/// <summary>
/// This process's live hub connections per user. On its own it is the presence of a single instance; the Redis
/// presence keeps one too, as the truth it re-registers when Redis has lost its copy.
/// </summary>
public sealed class ConnectionCounts : IUserPresence
{
    private readonly ConcurrentDictionary<string, int> counts = new(StringComparer.Ordinal);

    public int Increment(string userId) => counts.AddOrUpdate(userId, 1, static (_, n) => n + 1);

    public int Decrement(string userId)
    {
        while (counts.TryGetValue(userId, out var n))
        {
            if (n <= 1)
            {
                if (counts.TryRemove(new KeyValuePair<string, int>(userId, n)))
                {
                    return 0;
                }
            }
            else if (counts.TryUpdate(userId, n - 1, n))
            {
                return n - 1;
            }
        }

        return 0;
    }

    public IReadOnlyCollection<KeyValuePair<string, int>> Snapshot() => counts.ToArray();

    Task<int> IUserPresence.ConnectedAsync(string userId, CancellationToken cancellationToken) =>
        Task.FromResult(Increment(userId));

    Task IUserPresence.DisconnectedAsync(string userId, CancellationToken cancellationToken)
    {
        Decrement(userId);
        return Task.CompletedTask;
    }

    Task<IReadOnlyCollection<string>> IUserPresence.GetOnlineUserIdsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyCollection<string>>(counts.Keys.ToArray());
}
