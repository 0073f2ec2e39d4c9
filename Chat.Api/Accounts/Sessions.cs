using System.Collections.Concurrent;
using Chat.Domain.Auth;
using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace Chat.Api.Accounts;

/// <summary>
/// Sessions that end: an access token names its session (the refresh-token family), and once the family is revoked
/// (logout, logout everywhere, refresh-token reuse, the session cap) the token is refused and the hub connections
/// opened with it close, on every instance. Each instance checks the store: a token's session at most once per
/// <see cref="CacheFor"/>, and its own hub connections' sessions every <see cref="SweepEvery"/>, so a session ends
/// everywhere within a few seconds without any message between instances (and also after a Redis outage).
/// </summary>
public sealed partial class Sessions(IServiceProvider services, TimeProvider time, ILogger<Sessions> logger) : BackgroundService
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(2);
    private const int CacheLimit = 100_000;
    private const int SweepChunk = 1000;

    private readonly ConcurrentDictionary<string, (bool Live, long At)> cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, HubCallerContext>> connections = new(StringComparer.Ordinal);

    // Resolved late: the store is registered per mode, and the token issuer depends on this class.
    private IRefreshTokenStore Store => services.GetRequiredService<IRefreshTokenStore>();

    /// <summary>Whether the session is live, as the store said at most <see cref="CacheFor"/> ago.</summary>
    public async ValueTask<bool> IsLiveAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (cache.TryGetValue(sessionId, out var known) && time.GetElapsedTime(known.At) < CacheFor)
        {
            return known.Live;
        }

        bool live;
        try
        {
            live = !(await Store.EndedFamiliesAsync([sessionId], cancellationToken)).Contains(sessionId);
        }
        catch (RedisException ex)
        {
            // Redis is away: the token is still signed and unexpired; keep the last answer, else let it through.
            LogUnchecked(logger, ex);
            return known.At == 0 || known.Live;
        }

        if (cache.Count > CacheLimit)
        {
            cache.Clear();
        }

        cache[sessionId] = (live, time.GetTimestamp());
        return live;
    }

    /// <summary>Sessions ended here: refused on this instance at once (the others notice within seconds).</summary>
    public void Ended(IEnumerable<string> sessionIds)
    {
        foreach (var id in sessionIds)
        {
            cache[id] = (false, time.GetTimestamp());
            Close(id);
        }
    }

    /// <summary>A hub connection opened with a session's token: closed when the session ends.</summary>
    public void Track(string sessionId, HubCallerContext connection) =>
        connections.GetOrAdd(sessionId, _ => new(StringComparer.Ordinal))[connection.ConnectionId] = connection;

    public void Untrack(string sessionId, HubCallerContext connection)
    {
        if (connections.TryGetValue(sessionId, out var open))
        {
            open.TryRemove(connection.ConnectionId, out _);
            if (open.IsEmpty)
            {
                connections.TryRemove(new KeyValuePair<string, ConcurrentDictionary<string, HubCallerContext>>(sessionId, open));
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepEvery, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var chunk in connections.Keys.Chunk(SweepChunk))
            {
                try
                {
                    Ended(await Store.EndedFamiliesAsync(chunk, stoppingToken));
                }
                catch (RedisException ex)
                {
                    LogUnchecked(logger, ex);
                    break;
                }
            }
        }
    }

    private void Close(string sessionId)
    {
        if (connections.TryRemove(sessionId, out var open))
        {
            foreach (var connection in open.Values)
            {
                connection.Abort();
            }

            LogClosed(logger, sessionId, open.Count);
        }
    }

    [LoggerMessage(40, LogLevel.Information, "Session {SessionId} ended: closed {Count} hub connection(s)", EventName = "SessionClosed")]
    private static partial void LogClosed(ILogger logger, string sessionId, int count);

    [LoggerMessage(41, LogLevel.Warning, "Sessions could not be checked: Redis is unreachable", EventName = "SessionsUnchecked")]
    private static partial void LogUnchecked(ILogger logger, Exception ex);
}
