using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace Chat.Api.Messaging;

/// <summary>
/// While this instance cannot reach Redis, messages are stored but live delivery through the backplane stops, both
/// ways. When Redis is back, every connection is told <c>SyncNeeded</c> (through the backplane, so those of other
/// instances that lost this one's messages hear it too) and fetches what it missed.
/// </summary>
internal sealed partial class SyncAfterRedisOutage(
    IConnectionMultiplexer redis,
    IHubContext<ChatHub, IChatClient> hub,
    TimeProvider time,
    ILogger<SyncAfterRedisOutage> logger) : BackgroundService
{
    // When to tell, after Redis is back: at once the backplane may not have subscribed its channels again (here or on
    // another instance), and a SyncNeeded published before that is lost; a second one covers a slow resubscription.
    private static readonly TimeSpan[] TellAfter = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4)];
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var restored = new SemaphoreSlim(0);
        void OnRestored(object? sender, ConnectionFailedEventArgs e) => restored.Release();

        redis.ConnectionRestored += OnRestored;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await restored.WaitAsync(stoppingToken);
                foreach (var wait in TellAfter)
                {
                    await Task.Delay(wait, time, stoppingToken);
                    while (restored.Wait(0))
                    {
                        // One SyncNeeded covers the restorations seen meanwhile.
                    }

                    await TellEveryoneAsync(stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            redis.ConnectionRestored -= OnRestored;
        }
    }

    private async Task TellEveryoneAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await hub.Clients.All.SyncNeeded();
                LogSyncNeeded(logger);
                return;
            }
            catch (RedisException ex) when (attempt < 10)
            {
                LogRetry(logger, ex);
                await Task.Delay(RetryAfter, time, stoppingToken);
            }
        }
    }

    [LoggerMessage(20, LogLevel.Information, "Redis is back: told every connection to sync", EventName = "SyncNeeded")]
    private static partial void LogSyncNeeded(ILogger logger);

    [LoggerMessage(21, LogLevel.Warning, "Redis is back but SyncNeeded could not be sent yet; retrying", EventName = "SyncNeededRetry")]
    private static partial void LogRetry(ILogger logger, Exception ex);
}
