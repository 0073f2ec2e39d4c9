using Chat.Domain.Presence;
using Microsoft.Extensions.Options;

namespace Chat.Api.Presence;

/// <summary>Single-instance mode: this process's connection counts, and its away list, under one lock.</summary>
internal sealed class InProcessUserPresence(IOptions<PresenceOptions> options, TimeProvider time) : IUserPresence
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, DateTimeOffset> away = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<DateTimeOffset>> negotiating = new(StringComparer.Ordinal);

    public ConnectionCounts Counts { get; } = new();

    public Task<bool> TryReserveAsync(string userId, int limit, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            var open = negotiating.TryGetValue(userId, out var list) ? list : negotiating[userId] = [];
            open.RemoveAll(lapses => lapses <= now);
            if (Counts.Of(userId) + open.Count >= limit)
            {
                return Task.FromResult(false);
            }

            open.Add(now + PresenceOptions.NegotiationLapse);
            return Task.FromResult(true);
        }
    }

    public Task<Arrival> ConnectedAsync(string userId, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            if (negotiating.TryGetValue(userId, out var open))
            {
                if (open.Count > 0)
                {
                    open.RemoveAt(0);
                }

                if (open.Count == 0)
                {
                    negotiating.Remove(userId);
                }
            }

            var connections = Counts.Increment(userId);
            var wasAway = away.Remove(userId);
            return Task.FromResult(new Arrival(connections, CameOnline: connections == 1 && !wasAway));
        }
    }

    public Task<int> DisconnectedAsync(string userId, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            var left = Counts.Decrement(userId);
            if (left == 0)
            {
                away[userId] = time.GetUtcNow();
            }

            return Task.FromResult(left);
        }
    }

    public Task<IReadOnlyCollection<string>> GetOnlineUserIdsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyCollection<string>>(Counts.Users.ToArray());

    public Task<IReadOnlySet<string>> WhichOnlineAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken = default)
    {
        var graceStart = time.GetUtcNow() - options.Value.Grace;
        lock (gate)
        {
            // Within the grace period a user is still online as contacts see it: no UserOffline has gone out.
            return Task.FromResult<IReadOnlySet<string>>(userIds
                .Where(id => Counts.Of(id) > 0 || (away.TryGetValue(id, out var since) && since > graceStart))
                .ToHashSet(StringComparer.Ordinal));
        }
    }

    public Task<IReadOnlyList<Departure>> TakeDeparturesAsync(CancellationToken cancellationToken = default)
    {
        var due = time.GetUtcNow() - options.Value.Grace;
        lock (gate)
        {
            var gone = away.Where(a => a.Value <= due).Select(a => new Departure(a.Key, a.Value)).ToList();
            foreach (var departure in gone)
            {
                away.Remove(departure.UserId);
            }

            return Task.FromResult<IReadOnlyList<Departure>>(gone);
        }
    }
}
