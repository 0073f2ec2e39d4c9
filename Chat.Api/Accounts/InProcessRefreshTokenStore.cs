using Chat.Domain.Auth;

namespace Chat.Api.Accounts;

/// <summary>Single-instance mode: the same rules as the Redis store, atomic under one lock.</summary>
internal sealed class InProcessRefreshTokenStore(TimeProvider time) : IRefreshTokenStore
{
    private const int MinimumSweepSize = 1024;

    private readonly Lock gate = new();
    private readonly Dictionary<string, (RefreshTokenEntry Entry, bool Used)> tokens = new(StringComparer.Ordinal);

    // A family is live while it is in here; revoking removes it.
    private readonly HashSet<string> liveFamilies = new(StringComparer.Ordinal);
    private int sweepAt = MinimumSweepSize;

    public Task StoreAsync(string tokenHash, RefreshTokenEntry entry, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            liveFamilies.Add(entry.FamilyId);
            tokens[tokenHash] = (entry, false);
            SweepWhenGrown();
        }

        return Task.CompletedTask;
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
                liveFamilies.Remove(token.Entry.FamilyId);
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
                liveFamilies.Remove(token.Entry.FamilyId);
            }
        }

        return Task.CompletedTask;
    }

    private bool IsLive(RefreshTokenEntry entry) =>
        entry.FamilyExpiresAt > time.GetUtcNow() && liveFamilies.Contains(entry.FamilyId);

    // Dropping dead tokens whenever the table has doubled keeps memory bounded by the live families at an
    // amortised constant cost per token.
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
                liveFamilies.Remove(token.Entry.FamilyId);
            }
        }

        sweepAt = Math.Max(MinimumSweepSize, tokens.Count * 2);
    }
}
