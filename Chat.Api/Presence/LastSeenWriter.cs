using System.Threading.Channels;
using Chat.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Chat.Api.Presence;

/// <summary>
/// Last-seen times, written by one writer per instance in batches: a transaction for every user who left meanwhile.
/// Thousands of users leaving at once (an instance stopping with its connections, a network blip) then cost the
/// database a few commits, where an update each took a pooled connection and a commit apiece, and kept a stopping
/// instance from exiting. It writes until the host has stopped, the web server and its hub connections included, then
/// what is still queued: the users connected when the instance stops are seen last then, across a restart too.
/// </summary>
public sealed partial class LastSeenWriter(IServiceScopeFactory scopes, ILogger<LastSeenWriter> logger) : IHostedLifecycleService
{
    // A batch holds its users' rows until it commits, and the message writer waits for them: keep it short.
    private const int MaxBatch = 100;

    // Advisory, as presence is: a full queue drops the oldest time; the user's departure stores it again.
    private readonly Channel<(string UserId, DateTimeOffset LastSeenAt)> queue =
        Channel.CreateBounded<(string, DateTimeOffset)>(new BoundedChannelOptions(100_000)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });

    private Task writing = Task.CompletedTask;

    public void Store(string userId, DateTimeOffset lastSeenAt) => queue.Writer.TryWrite((userId, lastSeenAt));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        writing = Task.Run(WriteQueuedAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Hub connections are still closing when hosted services stop: their users leave after this.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Everything has stopped, the web server and its connections too: nobody else leaves. What the shutdown timeout
    /// leaves unwritten (the database is away) is given up, as presence is advisory: the instance still exits cleanly.
    /// </summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        queue.Writer.TryComplete();
        try
        {
            await writing.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogGivenUp(logger);
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task WriteQueuedAsync()
    {
        var batch = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        while (await queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var left))
            {
                batch[left.UserId] = left.LastSeenAt; // the later of two leavings wins
            }

            await WriteAsync(batch);
            batch.Clear();
        }
    }

    private async Task WriteAsync(IReadOnlyDictionary<string, DateTimeOffset> batch)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
            // Rows are locked in id order: two instances writing overlapping batches never deadlock.
            var ordered = batch.OrderBy(b => b.Key, StringComparer.Ordinal).ToList();
            await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
            {
                await using var transaction = await db.Database.BeginTransactionAsync(ct);
                foreach (var (userId, lastSeenAt) in ordered)
                {
                    await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(u => u.SetProperty(x => x.LastSeenAt, lastSeenAt), ct);
                }

                await transaction.CommitAsync(ct);
            }, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // Advisory, and the loop must go on whatever happened: the departure stores it again.
            LogNotStored(logger, batch.Count, ex);
        }
    }

    [LoggerMessage(33, LogLevel.Warning, "The instance stopped before the last-seen times of the users who left were stored", EventName = "LastSeenGivenUp")]
    private static partial void LogGivenUp(ILogger logger);

    [LoggerMessage(32, LogLevel.Warning, "The last-seen times of {Count} user(s) could not be stored: the database did not commit them", EventName = "LastSeenNotStored")]
    private static partial void LogNotStored(ILogger logger, int count, Exception ex);
}
