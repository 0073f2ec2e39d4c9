using System.Collections.Concurrent;

namespace Chat.Api.Presence;

/// <summary>
/// This process's live hub connections per user: the presence of a single instance, and the truth the Redis presence
/// re-registers when Redis has lost its copy.
/// </summary>
public sealed class ConnectionCounts
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

    public int Of(string userId) => counts.GetValueOrDefault(userId);

    public ICollection<string> Users => counts.Keys;

    public IReadOnlyCollection<KeyValuePair<string, int>> Snapshot() => counts.ToArray();
}
