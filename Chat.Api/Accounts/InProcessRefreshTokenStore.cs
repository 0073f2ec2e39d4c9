using Chat.Domain.Auth;

namespace Chat.Api.Accounts;

/// <summary>Single-instance mode: the same rules as the Redis store, atomic under one lock.</summary>
internal sealed class InProcessRefreshTokenStore(TimeProvider time) : IRefreshTokenStore
{
    private const int MinimumSweepSize = 1024;

    private readonly Lock gate = new();
    private readonly Dictionary<string, (RefreshTokenEntry Entry, bool Used)> tokens = new(StringComparer.Ordinal);

    // A family is live while it is in here and not expired; revoking removes it.
    private readonly Dictionary<string, (RefreshTokenEntry Entry, DateTimeOffset CreatedAt)> families = new(StringComparer.Ordinal);
    // Ended families until they would have expired: what EndedFamiliesAsync answers.
    private readonly Dictionary<string, DateTimeOffset> ended = new(StringComparer.Ordinal);
    private int sweepAt = MinimumSweepSize;

    public Task<IReadOnlyList<string>> StoreAsync(string tokenHash, RefreshTokenEntry entry, int maxSessions, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            families[entry.FamilyId] = (entry, time.GetUtcNow());
            tokens[tokenHash] = (entry, false);
            var oldest = families.Values
                .Where(f => f.Entry.UserId == entry.UserId && IsLive(f.Entry))
                .OrderBy(f => f.CreatedAt)
                .Select(f => f.Entry.FamilyId)
                .ToList();
            var evicted = oldest.Take(Math.Max(0, oldest.Count - maxSessions)).ToList();
            evicted.ForEach(End);
            SweepWhenGrown();
            return Task.FromResult<IReadOnlyList<string>>(evicted);
        }
    }

    public Task<RotationResult> RotateAsync(string tokenHash, string replacementHash, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            if (!tokens.TryGetValue(tokenHash, out var token) || !IsLive(token.Entry))
            {
                return Task.FromResult(new RotationResult(RotationOutcome.Rejected, null));
            }

            if (token.Used)
            {
                End(token.Entry.FamilyId);
                return Task.FromResult(new RotationResult(RotationOutcome.ReuseDetected, token.Entry));
            }

            tokens[tokenHash] = (token.Entry, true);
            tokens[replacementHash] = (token.Entry, false);
            SweepWhenGrown();
            return Task.FromResult(new RotationResult(RotationOutcome.Rotated, token.Entry));
        }
    }

    public Task RevokeFamilyAsync(string tokenHash, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            if (tokens.TryGetValue(tokenHash, out var token))
            {
                End(token.Entry.FamilyId);
            }
        }

        return Task.CompletedTask;
    }

    public Task RevokeUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            foreach (var id in families.Where(f => f.Value.Entry.UserId == userId).Select(f => f.Key).ToList())
            {
                End(id);
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlySet<string>> EndedFamiliesAsync(IReadOnlyCollection<string> familyIds, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            return Task.FromResult<IReadOnlySet<string>>(familyIds
                .Where(id => ended.TryGetValue(id, out var until) && until > now)
                .ToHashSet(StringComparer.Ordinal));
        }
    }

    private void End(string familyId)
    {
        if (families.Remove(familyId, out var family))
        {
            ended[familyId] = family.Entry.FamilyExpiresAt;
        }
    }

    private bool IsLive(RefreshTokenEntry entry) =>
        entry.FamilyExpiresAt > time.GetUtcNow() && families.ContainsKey(entry.FamilyId);

    // Dropping dead tokens and families whenever the table has doubled keeps memory bounded by the live families at
    // an amortised constant cost per token.
    private void SweepWhenGrown()
    {
        if (tokens.Count < sweepAt)
        {
            return;
        }

        foreach (var (hash, token) in tokens)
        {
            if (!IsLive(token.Entry))
            {
                tokens.Remove(hash);
                families.Remove(token.Entry.FamilyId);
            }
        }

        var now = time.GetUtcNow();
        foreach (var (id, until) in ended)
        {
            if (until <= now)
            {
                ended.Remove(id);
            }
        }

        sweepAt = Math.Max(MinimumSweepSize, tokens.Count * 2);
    }
}
