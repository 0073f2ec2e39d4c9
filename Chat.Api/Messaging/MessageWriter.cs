using System.Data.Common;
using System.Diagnostics;
using System.Threading.Channels;
using Chat.Api.Platform.Persistence;
using Chat.Domain;
using Chat.Domain.Messaging;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Chat.Api.Messaging;

/// <summary>What storing a send gave.</summary>
public abstract record StoreOutcome
{
    /// <param name="Message">The stored message: this send's, or the first one's with the same clientMessageId.</param>
    /// <param name="Repeated">True when the send repeated an earlier one and stored nothing.</param>
    /// <param name="FirstOfConversation">True when this message started the conversation: the two became contacts.</param>
    public sealed record Stored(ChatMessage Message, bool Repeated, bool FirstOfConversation = false) : StoreOutcome;

    /// <summary>The clientMessageId names another message of the sender (another receiver or text).</summary>
    public sealed record ClientMessageIdTaken : StoreOutcome;

    /// <summary>One of the two blocks the other: <c>Blocker</c> accepts nothing from <c>Blockee</c> (usernames).</summary>
    public sealed record Blocked(string Blocker, string Blockee) : StoreOutcome;

    /// <summary>Nothing was stored: the database did not answer in time, or the writer is stopping.</summary>
    public sealed record NotStored : StoreOutcome;
}

/// <summary>
/// The one writer of messages on this instance. Sends queue here (bounded: a full queue holds senders back) and are
/// committed in batches — all that queued while the previous commit ran, up to <see cref="MessageStoreOptions.MaxBatchSize"/>
/// — so the database flushes its log once per batch, not once per message. A send completes only after its batch
/// committed. Each message takes the next number of one sequence whose counter stays locked until its batch commits,
/// which is what makes sync ordered and gapless across instances (see <see cref="Message"/>).
/// </summary>
public sealed partial class MessageWriter(
    IServiceScopeFactory scopes,
    IOptions<MessageStoreOptions> options,
    MessagingMetrics metrics,
    TimeProvider time,
    ILogger<MessageWriter> logger) : BackgroundService
{
    private readonly Channel<PendingSend> queue = Channel.CreateBounded<PendingSend>(
        new BoundedChannelOptions(options.Value.QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private const int MaxKnownConversations = 200_000;

    /// <summary>Conversations known to hold a message (only the writer's loop uses it).</summary>
    private readonly HashSet<string> knownConversations = new(StringComparer.Ordinal);

    /// <summary>The writer's own connection, held across batches (only the writer's loop uses it); closed after a failure.</summary>
    private DbConnection? connection;

    /// <summary>The last completion of sends (<see cref="Complete"/>): the next one runs after it.</summary>
    private Task completed = Task.CompletedTask;

    private MessageStoreOptions Options => options.Value;

    /// <summary>
    /// Stores the message, or says why not; never throws for the database's sake. With a <paramref name="turn"/>, the
    /// message is queued after the connection's previous send, and the turn is done once it is.
    /// </summary>
    public async Task<StoreOutcome> StoreAsync(string senderId, OutgoingMessage message, SendTurn? turn, CancellationToken cancellationToken)
    {
        var pending = new PendingSend(senderId, message, time.GetUtcNow() + Options.Timeout);
        if ((turn is null || turn.Previous.IsCompleted) && queue.Writer.TryWrite(pending))
        {
            // Its turn has come and the queue has room, as it mostly has: no timer to arm and disarm.
            turn?.Done();
            return await pending.Outcome.Task;
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(Options.Timeout);
        try
        {
            if (turn is not null)
            {
                await turn.Previous.WaitAsync(wait.Token);
            }

            await queue.Writer.WriteAsync(pending, wait.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new StoreOutcome.NotStored(); // the queue stayed full for the whole timeout
        }
        catch (ChannelClosedException)
        {
            return new StoreOutcome.NotStored();
        }
        finally
        {
            turn?.Done();
        }

        return await pending.Outcome.Task;
    }

    /// <remarks>
    /// Runs until <see cref="StopAsync"/> ends the queue and everything queued by then is committed: the stopping
    /// token does not cut it short, so a send accepted before the instance began to stop is still stored.
    /// </remarks>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<PendingSend>(Options.MaxBatchSize);
        while (await queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            var now = time.GetUtcNow();
            while (batch.Count < Options.MaxBatchSize && queue.Reader.TryRead(out var pending))
            {
                // A send that waited past its deadline has been given up by its caller's budget: never store it.
                if (pending.Deadline <= now)
                {
                    Complete([pending], [new StoreOutcome.NotStored()]);
                }
                else
                {
                    batch.Add(pending);
                }
            }

            if (batch.Count > 0)
            {
                await CommitAsync(batch);
                batch.Clear();
            }
        }

        await CloseConnectionAsync();
    }

    /// <summary>
    /// Refuses new sends ("not stored": the instance is stopping) and commits those already queued, within the host's
    /// shutdown timeout (<c>Shutdown:DrainSeconds</c>). By now SignalR has closed the hub connections, whose clients
    /// reconnect to another instance.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    private async Task CommitAsync(IReadOnlyList<PendingSend> batch)
    {
        using var activity = MessagingMetrics.Traces.StartActivity("chat.store.commit");
        activity?.SetTag("chat.store.batch.size", batch.Count);
        try
        {
            var started = time.GetTimestamp();
            var outcomes = await WriteAsync(batch);
            Remember(outcomes);
            metrics.Committed(outcomes.Count(o => o is StoreOutcome.Stored { Repeated: false }), time.GetElapsedTime(started));
            Complete([.. batch], outcomes);
        }
        catch (DbException ex) when (batch.Count > 1 && IsConstraintViolation(ex))
        {
            // One message the database refuses must not take the others with it: each on its own. (An outage is not
            // retried this way: each message would wait out its own timeout.)
            LogBatchRefused(logger, batch.Count, ex);
            foreach (var pending in batch)
            {
                await CommitAsync([pending]);
            }
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "not stored");
            LogNotStored(logger, batch.Count, ex);
            metrics.NotStored(batch.Count);
            Complete([.. batch], [.. batch.Select(_ => new StoreOutcome.NotStored())]);
        }
    }

    /// <summary>
    /// Completes sends in the order they were stored, after the sends completed before them, on a thread of the pool
    /// rather than this loop's. The callers' continuations run inline, in that order, so their deliveries leave in the
    /// order the messages were stored: a connection's sends reach the receiver in the order they were sent.
    /// </summary>
    private void Complete(PendingSend[] sends, StoreOutcome[] outcomes)
    {
        completed = completed.ContinueWith(
            _ =>
            {
                for (var i = 0; i < sends.Length; i++)
                {
                    sends[i].Outcome.TrySetResult(outcomes[i]);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    // SQLSTATE class 23 (MySQL, MariaDB), or SQLITE_CONSTRAINT.
    private static bool IsConstraintViolation(DbException ex) => ex.SqlState?.StartsWith("23", StringComparison.Ordinal) == true || ex.ErrorCode == 19;

    private async Task<StoreOutcome[]> WriteAsync(IReadOnlyList<PendingSend> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        using var timeout = new CancellationTokenSource(Options.Timeout);
        try
        {
            return await StageAsync(db, batch, timeout.Token);
        }
        catch
        {
            await CloseConnectionAsync(); // which ends its transaction: nothing of the batch is stored, the sequence is free
            throw;
        }
    }

    /// <summary>
    /// Under the sequence's lock, decides each send (a repeat, refused by a block, or new), numbers the new messages
    /// and writes them with their conversation rows: two round trips on the writer's own connection.
    /// </summary>
    private async Task<StoreOutcome[]> StageAsync(ChatDbContext db, IReadOnlyList<PendingSend> batch, CancellationToken cancellationToken)
    {
        var userIds = batch.SelectMany(p => new[] { p.SenderId, p.Message.ReceiverId }).ToHashSet(StringComparer.Ordinal);
        var keys = batch.Where(p => p.Message.ClientMessageId is not null).Select(p => (p.SenderId, p.Message.ClientMessageId!)).ToHashSet();
        // The conversations that hold a message already. Conversations are never deleted, so those this instance has
        // stored to are known for good (knownConversations); only the others are looked up.
        var started = new HashSet<string>(StringComparer.Ordinal);
        var unknown = new HashSet<(string, string)>();
        foreach (var (senderId, message, _) in batch)
        {
            var id = Conversation.IdOf(senderId, message.ReceiverId);
            if (knownConversations.Contains(id))
            {
                started.Add(id);
            }
            else
            {
                unknown.Add((senderId, message.ReceiverId));
            }
        }

        var (writerConnection, reads) = await BeginBatchAsync(db, userIds, keys, unknown, cancellationToken);
        started.UnionWith(reads.Started.Select(c => Conversation.IdOf(c.User, c.Peer)));
        var sequence = reads.Sequence;
        var earlier = await RepeatedAsync(db, reads, cancellationToken);

        var outcomes = new StoreOutcome?[batch.Count];
        var fresh = new List<int>(batch.Count);
        var refused = new List<(int Index, string Blocker, string Blockee)>();
        var firstWithKey = new Dictionary<(string, string), int>();
        for (var i = 0; i < batch.Count; i++)
        {
            var (senderId, outgoing, _) = batch[i];
            var key = outgoing.ClientMessageId;
            if (key is not null && (earlier.ContainsKey((senderId, key)) || !firstWithKey.TryAdd((senderId, key), i)))
            {
                continue; // a repeat of a stored send, or of one earlier in this batch: answered once that one is decided
            }

            if (reads.Blocks.Contains((outgoing.ReceiverId, senderId)))
            {
                refused.Add((i, outgoing.ReceiverId, senderId));
            }
            else if (reads.Blocks.Contains((senderId, outgoing.ReceiverId)))
            {
                refused.Add((i, senderId, outgoing.ReceiverId));
            }
            else
            {
                fresh.Add(i);
            }
        }

        if (refused.Count > 0)
        {
            var names = await UsernamesAsync(db, refused.SelectMany(r => new[] { r.Blocker, r.Blockee }).Distinct().ToList(), cancellationToken);
            foreach (var (i, blocker, blockee) in refused)
            {
                outcomes[i] = new StoreOutcome.Blocked(names[blocker], names[blockee]);
            }
        }

        var messages = new List<Message>(fresh.Count);
        var changed = new Dictionary<(string, string), Conversation>();
        foreach (var i in fresh)
        {
            var (senderId, outgoing, _) = batch[i];
            var message = NewMessage(senderId, outgoing, ++sequence);
            messages.Add(message);
            Change(changed, senderId, outgoing.ReceiverId, message, unread: false);
            if (senderId != outgoing.ReceiverId)
            {
                Change(changed, outgoing.ReceiverId, senderId, message, unread: true);
            }

            if (outgoing.ClientMessageId is { } key)
            {
                earlier[(senderId, key)] = message;
            }

            outcomes[i] = new StoreOutcome.Stored(message.ToChatMessage(), Repeated: false, FirstOfConversation: started.Add(message.ConversationId));
        }

        for (var i = 0; i < batch.Count; i++)
        {
            if (outcomes[i] is null)
            {
                var (senderId, outgoing, _) = batch[i];
                var key = (senderId, outgoing.ClientMessageId!);
                if (!earlier.TryGetValue(key, out var original))
                {
                    outcomes[i] = outcomes[firstWithKey[key]]; // the first with this key was refused: so is this one
                }
                else
                {
                    outcomes[i] = original.ReceiverId == outgoing.ReceiverId && original.Text == outgoing.Text
                        ? new StoreOutcome.Stored(original.ToChatMessage(), Repeated: true)
                        : new StoreOutcome.ClientMessageIdTaken();
                }
            }
        }

        await db.CommitBatchAsync(writerConnection, messages, changed.Values, sequence, cancellationToken);
        return outcomes!;
    }

    /// <summary>The usernames of the users of a batch's refused sends (only a block needs them), in one query.</summary>
    private static Task<Dictionary<string, string>> UsernamesAsync(ChatDbContext db, List<string> ids, CancellationToken cancellationToken) =>
        db.Users.AsNoTracking().Where(u => EF.Constant(ids).Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Username, StringComparer.Ordinal, cancellationToken);

    private Message NewMessage(string senderId, OutgoingMessage outgoing, long sequence) => new()
    {
        Id = SortableId.New(time),
        ConversationId = Conversation.IdOf(senderId, outgoing.ReceiverId),
        SenderId = senderId,
        ReceiverId = outgoing.ReceiverId,
        Text = outgoing.Text,
        SentAt = Timestamps.ToMicroseconds(time.GetUtcNow()),
        ClientMessageId = outgoing.ClientMessageId,
        SenderSequence = sequence,
        ReceiverSequence = sequence,
        ConversationSequence = sequence,
    };

    /// <summary>Records <paramref name="last"/> as the conversation's last message, and counts it unread for the user when it is.</summary>
    private static void Change(Dictionary<(string, string), Conversation> changed, string userId, string peerId, Message last, bool unread)
    {
        if (!changed.TryGetValue((userId, peerId), out var conversation))
        {
            conversation = new Conversation { UserId = userId, PeerId = peerId, LastMessageId = last.Id, LastSequence = last.SenderSequence };
            changed[(userId, peerId)] = conversation;
        }

        conversation.LastMessageId = last.Id;
        conversation.LastSequence = last.SenderSequence;
        if (unread)
        {
            conversation.UnreadCount++; // added to the stored count (StoreBatchAsync)
        }
    }

    /// <summary>Remembers the conversations of a committed batch as started (bounded: forgetting only costs a lookup).</summary>
    private void Remember(StoreOutcome[] outcomes)
    {
        if (knownConversations.Count > MaxKnownConversations)
        {
            knownConversations.Clear();
        }

        foreach (var outcome in outcomes)
        {
            if (outcome is StoreOutcome.Stored { Message: var message })
            {
                knownConversations.Add(Conversation.IdOf(message.SenderId, message.ReceiverId));
            }
        }
    }

    /// <summary>
    /// Begins the batch on the writer's connection (<see cref="ChatDbContext.BeginBatchAsync"/>), opening one if it has
    /// none. A held connection may have died while it waited (the database restarted, a proxy dropped it): as nothing
    /// is written by then, a failure on it is tried once more on a new one.
    /// </summary>
    private async Task<(DbConnection, BatchReads)> BeginBatchAsync(
        ChatDbContext db, HashSet<string> userIds, HashSet<(string, string)> keys, HashSet<(string, string)> unknown, CancellationToken cancellationToken)
    {
        if (connection is { } held)
        {
            try
            {
                return (held, await db.BeginBatchAsync(held, userIds, keys, unknown, cancellationToken));
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                LogReconnecting(logger, ex);
                await CloseConnectionAsync();
            }
        }

        var opened = connection = await db.OpenWriterConnectionAsync(cancellationToken);
        return (opened, await db.BeginBatchAsync(opened, userIds, keys, unknown, cancellationToken));
    }

    private async Task CloseConnectionAsync()
    {
        if (connection is { } held)
        {
            connection = null;
            await held.DisposeAsync();
        }
    }

    /// <summary>
    /// The stored messages that sends of this batch repeat, by sender and clientMessageId: their ids were read under
    /// the sequence's lock (so a repeat committed by another instance a moment ago is seen, never stored twice); the
    /// messages themselves, committed and never changed, are read afterwards, rarely (a retry after a lost receipt).
    /// </summary>
    private static async Task<Dictionary<(string, string), Message>> RepeatedAsync(ChatDbContext db, BatchReads reads, CancellationToken cancellationToken)
    {
        if (reads.Repeats.Count == 0)
        {
            return [];
        }

        var ids = reads.Repeats.Values.ToList();
        var found = await db.Messages.AsNoTracking().Where(m => EF.Constant(ids).Contains(m.Id)).ToListAsync(cancellationToken);
        return found.ToDictionary(m => (m.SenderId, m.ClientMessageId!));
    }

    private sealed record PendingSend(string SenderId, OutgoingMessage Message, DateTimeOffset Deadline)
    {
        // Completed by Complete, whose thread runs the caller's continuation.
        public TaskCompletionSource<StoreOutcome> Outcome { get; } = new();
    }

    [LoggerMessage(2, LogLevel.Warning, "The database refused a batch of {Count} message(s); storing each on its own", EventName = "BatchRefused")]
    private static partial void LogBatchRefused(ILogger logger, int count, Exception ex);

    [LoggerMessage(3, LogLevel.Error, "{Count} message(s) were not stored: the database did not commit them", EventName = "NotStored")]
    private static partial void LogNotStored(ILogger logger, int count, Exception ex);

    [LoggerMessage(4, LogLevel.Information, "The message writer's database connection failed; opening a new one", EventName = "WriterReconnecting")]
    private static partial void LogReconnecting(ILogger logger, Exception ex);
}
