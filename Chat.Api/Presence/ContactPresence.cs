using Chat.Api.Messaging;
using Chat.Api.Platform.Persistence;
using Chat.Domain.Presence;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Chat.Api.Presence;

/// <summary>
/// Presence as contacts see it: <c>UserOnline</c> and <c>UserOffline</c> to the users one shares a conversation
/// with (never to others, never across a block), O(contacts) per change. Arrivals are announced as they happen;
/// departures once the grace period has passed without a reconnect (<see cref="IUserPresence.TakeDeparturesAsync"/>,
/// polled every second, which also hands out a crashed instance's users). When the last connection ends, the time
/// is stored as the user's <c>lastSeenAt</c> (<see cref="LastSeenWriter"/>, in batches).
/// </summary>
public sealed partial class ContactPresence(
    IUserPresence presence,
    OnlineUsers onlineUsers,
    LastSeenWriter lastSeen,
    PresenceMetrics metrics,
    IServiceScopeFactory scopes,
    IHubContext<ChatHub, IChatClient> hub,
    TimeProvider time,
    ILogger<ContactPresence> logger) : BackgroundService
{
    private static readonly TimeSpan DeparturePoll = TimeSpan.FromSeconds(1);

    /// <returns>The user's live connections on every instance, this one included.</returns>
    public async Task<int> ConnectedAsync(string userId, CancellationToken cancellationToken)
    {
        var arrival = await presence.ConnectedAsync(userId, cancellationToken);
        onlineUsers.Changed();
        if (arrival.CameOnline)
        {
            var told = await TellContactsAsync([userId], (_, contacts) => hub.Clients.Users(contacts).UserOnline(new UserOnline(userId)));
            metrics.Online(told);
        }

        return arrival.Connections;
    }

    public async Task DisconnectedAsync(string userId)
    {
        var left = await presence.DisconnectedAsync(userId);
        onlineUsers.Changed();
        if (left == 0)
        {
            lastSeen.Store(userId, time.GetUtcNow());
        }
    }

    /// <summary>Two users who just became contacts (their first message) and are online learn it of each other.</summary>
    public async Task IntroduceAsync(string senderId, string receiverId)
    {
        if (senderId == receiverId || !(await presence.WhichOnlineAsync([receiverId])).Contains(receiverId))
        {
            return;
        }

        await Task.WhenAll(
            hub.Clients.User(receiverId).UserOnline(new UserOnline(senderId)),
            hub.Clients.User(senderId).UserOnline(new UserOnline(receiverId)));
        metrics.Online(2);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(DeparturePoll, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            IReadOnlyList<Departure> departures;
            try
            {
                departures = await presence.TakeDeparturesAsync(stoppingToken);
            }
            catch (RedisException ex)
            {
                LogUnavailable(logger, ex);
                continue;
            }

            var left = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            foreach (var (userId, lastSeenAt) in departures)
            {
                lastSeen.Store(userId, lastSeenAt);
                left[userId] = lastSeenAt;
            }

            metrics.Offline(await TellContactsAsync(
                [.. left.Keys], (userId, contacts) => hub.Clients.Users(contacts).UserOffline(new UserOffline(userId, left[userId]))));
        }
    }

    /// <summary>
    /// Tells each user's contacts with <paramref name="send"/>. Their contacts are read in one query: an instance that
    /// stops hands all its users to the others at once (a thousand a poll). With a query each, the 15,000 users of a
    /// stopped instance cost the next one 15,000 queries on the core its sends needed: S3 at 2,504 msg/s started
    /// right after had p99 807 ms, against 46 with one query a poll (docs/benchmarks.md).
    /// </summary>
    /// <returns>How many contacts were told (online or not: SignalR sends nothing to those with no connection).</returns>
    private async Task<int> TellContactsAsync(string[] userIds, Func<string, IReadOnlyList<string>, Task> send)
    {
        if (userIds.Length == 0)
        {
            return 0; // the poll found nobody leaving, as it mostly does
        }

        ILookup<string, string> contactsOf;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
            // Inlined as IN (...), as OnlineUsers does: portable across MariaDB, MySQL and SQLite.
            contactsOf = (await db.Conversations.AsNoTracking()
                .Where(c => EF.Constant(userIds).Contains(c.UserId) && c.PeerId != c.UserId)
                .Where(c => !db.Blocks.Any(b => (b.BlockerId == c.UserId && b.BlockedId == c.PeerId) || (b.BlockerId == c.PeerId && b.BlockedId == c.UserId)))
                .Select(c => new { c.UserId, c.PeerId })
                .ToListAsync())
                .ToLookup(c => c.UserId, c => c.PeerId, StringComparer.Ordinal);
        }
        catch (Exception ex) when (ChatDbContext.IsUnavailable(ex))
        {
            // Presence is advisory: a database or Redis outage must not fail a connect or stop the loop.
            LogNotAnnounced(logger, userIds.Length, ex);
            return 0;
        }

        var told = 0;
        foreach (var contacts in contactsOf)
        {
            var peers = contacts.ToList();
            try
            {
                await send(contacts.Key, peers);
                told += peers.Count;
            }
            catch (RedisException ex)
            {
                LogNotAnnounced(logger, 1, ex);
            }
        }

        return told;
    }

    [LoggerMessage(30, LogLevel.Warning, "Presence of {Users} user(s) could not be announced", EventName = "PresenceNotAnnounced")]
    private static partial void LogNotAnnounced(ILogger logger, int users, Exception ex);

    [LoggerMessage(31, LogLevel.Warning, "Departures could not be read: Redis is unreachable", EventName = "DeparturesUnavailable")]
    private static partial void LogUnavailable(ILogger logger, Exception ex);
}
