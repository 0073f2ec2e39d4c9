using System.Collections.Concurrent;
using Chat.Domain.Auth;

namespace Chat.Infrastructure.InProcess;

internal sealed class InProcessRefreshTokenStore(TimeProvider time) : IRefreshTokenStore
{
    private readonly ConcurrentDictionary<string, RefreshTokenEntry> tokens = new(StringComparer.Ordinal);

    public Task StoreAsync(string tokenHash, RefreshTokenEntry entry, CancellationToken cancellationToken = default)
    {
        // Expired entries are dropped as new ones arrive, so the dictionary does not grow without bound.
        var now = time.GetUtcNow();
        foreach (var (hash, existing) in tokens)
        {
            if (existing.FamilyExpiresAt <= now)
            {
                tokens.TryRemove(hash, out _);
            }
        }

        tokens[tokenHash] = entry;
        return Task.CompletedTask;
    }
}
