using Chat.Domain.Messaging;
using Chat.Domain.Users;
using System.Buffers;
using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Numerics;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Chat.Api.Platform.Persistence;

/// <summary>
/// The model shared by both providers. Each provider has its own subclass so that each keeps its own migrations
/// (MySQL and SQLite DDL differ); the rest of the app only ever asks for <see cref="ChatDbContext"/>.
/// </summary>
public abstract class ChatDbContext(DbContextOptions options) : DbContext(options)
{
    /// <summary>Room for two user ids and the ':' between them.</summary>
    private const int ConversationIdLength = 2 * IdLength + 1;
    private const int IdLength = 32;

    public DbSet<User> Users => Set<User>();

    /// <summary>
    /// Whether <paramref name="exception"/> says the database did not answer (down, unreachable, or transient failures
    /// past the retries): the service is briefly unavailable, which callers report as such, not as a bug.
    /// </summary>
    public static bool IsUnavailable(Exception exception) => exception is DbException or RetryLimitExceededException;

    public DbSet<Message> Messages => Set<Message>();

    public DbSet<Conversation> Conversations => Set<Conversation>();

    public DbSet<Block> Blocks => Set<Block>();

    /// <summary>
    /// The last number of the message sequence, its counter locked until the transaction ends: how every storing
    /// transaction takes its turn. Each takes the next numbers and stores the last (<see cref="StoreBatchAsync"/>), so
    /// the one that takes number n+1 waits for the one that took n to commit, and a number becomes visible only after
    /// every smaller one did: sync, ordered by number, never skips (see <see cref="Message"/>).
    /// </summary>
    public async Task<long> LockSequenceAsync(CancellationToken cancellationToken)
    {
        await using var command = CreateWriteCommand();
        command.CommandText = "SELECT Last FROM MessageCounter WHERE Id = " + MessageCounter.OnlyId + LockingClause;
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The user's row of a conversation, locked until the transaction ends: how <c>MarkRead</c> takes its turn with a
    /// writer that adds to the conversation's unread count. Null while the conversation holds no message.
    /// </summary>
    public async Task<Conversation?> LockConversationAsync(string userId, string peerId, CancellationToken cancellationToken) =>
        (await Conversations.FromSqlRaw("SELECT * FROM Conversations WHERE UserId = {0} AND PeerId = {1}" + LockingClause, userId, peerId)
            .ToListAsync(cancellationToken)).SingleOrDefault();

    /// <summary>The blocks these users made, as (blocker, blocked) (few: a batch's blocks are looked up among them).</summary>
    public Task<List<(string BlockerId, string BlockedId)>> BlocksByAsync(IReadOnlyCollection<string> blockerIds, CancellationToken cancellationToken) =>
        ReadAnyOfAsync(
            "SELECT BlockerId, BlockedId FROM Blocks WHERE BlockerId IN (", blockerIds, ")",
            row => (row.GetString(0), row.GetString(1)),
            cancellationToken);

    /// <summary>The users <paramref name="userId"/> blocked or is blocked by: neither of a pair sees the other's presence.</summary>
    public async Task<HashSet<string>> BlockedEitherWayAsync(string userId, CancellationToken cancellationToken) =>
        (await Blocks.AsNoTracking()
            .Where(b => b.BlockerId == userId || b.BlockedId == userId)
            .Select(b => b.BlockerId == userId ? b.BlockedId : b.BlockerId)
            .ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Runs <paramref name="select"/>, the <paramref name="ids"/> (its IN list, in order) and <paramref name="suffix"/> in
    /// the caller's transaction, and reads each row with <paramref name="read"/>. The ids go in as literals when they
    /// are plain ids, as all of Chat's are (<see cref="IsPlainId"/>), else as parameters: a batch names up to a thousand
    /// users, and a DbParameter for each, with EF materializing whole rows, held S2 at 1,000 pairs to 3,618 msg/s
    /// against 4,335 without (docs/benchmarks.md).
    /// </summary>
    private async Task<List<T>> ReadAnyOfAsync<T>(
        string select, IReadOnlyCollection<string> ids, string suffix, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        var rows = new List<T>(ids.Count);
        foreach (var chunk in ids.Order(StringComparer.Ordinal).Chunk(MaxParameters))
        {
            await using var command = CreateWriteCommand();
            var sql = new StringBuilder(select);
            for (var i = 0; i < chunk.Length; i++)
            {
                sql.Append(i == 0 ? "" : ", ");
                if (IsPlainId(chunk[i]))
                {
                    sql.Append('\'').Append(chunk[i]).Append('\'');
                    continue;
                }

                var parameter = command.CreateParameter();
                parameter.ParameterName = "@p" + i.ToString(CultureInfo.InvariantCulture);
                parameter.Value = chunk[i];
                command.Parameters.Add(parameter);
                sql.Append(parameter.ParameterName);
            }

            command.CommandText = sql.Append(suffix).ToString();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(read(reader));
            }
        }

        return rows;
    }

    private static readonly SearchValues<char> PlainIdCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-:.");

    /// <summary>Whether <paramref name="value"/> is made of letters, digits and "_-:." only, so it can be an SQL literal as it is.</summary>
    private static bool IsPlainId(string value) => !value.AsSpan().ContainsAnyExcept(PlainIdCharacters);

    /// <summary>
    /// The rows of <paramref name="table"/> whose two columns hold one of <paramref name="pairs"/>: a batch's
    /// conversations not known to have started, or its earlier sends. The pairs are a derived table joined on the key, one index lookup each:
    /// two IN lists would look up every combination of their values (256 users, 65,536 lookups), and MariaDB plans
    /// an OR of 600 pairs, or a row IN list, in 200–350 ms against 3 ms for this join.
    /// </summary>
    /// <remarks>The names are the model's own, never input.</remarks>
    public async Task<List<T>> MatchingAsync<T>(
        DbSet<T> table, string tableName, string first, string second, IReadOnlyCollection<(string First, string Second)> pairs,
        CancellationToken cancellationToken)
        where T : class
    {
        var rows = new List<T>();
        foreach (var chunk in pairs.Chunk(MaxParameters / 2))
        {
            var padded = Padded(chunk);
            // UNION, not UNION ALL: the padding repeats a pair, and each row must come once.
            var sql = new StringBuilder("SELECT t.* FROM (");
            for (var i = 0; i < padded.Length; i++)
            {
                sql.Append(i == 0 ? "SELECT {0} AS A, {1} AS B" : $" UNION SELECT {{{2 * i}}}, {{{2 * i + 1}}}");
            }

            sql.Append(") AS k JOIN ").Append(tableName).Append(" t ON t.").Append(first).Append(" = k.A AND t.").Append(second).Append(" = k.B");
            object[] values = [.. padded.SelectMany(p => new object[] { p.First, p.Second })];
            rows.AddRange(await table.FromSqlRaw(sql.ToString(), values).AsNoTracking().ToListAsync(cancellationToken));
        }

        return rows;
    }

    /// <summary>
    /// How many values one query of <see cref="ReadAnyOfAsync"/> or <see cref="MatchingAsync"/> names at most: a
    /// server answers a whole batch in one round trip.
    /// </summary>
    protected virtual int MaxParameters => 4096;

    /// <summary>
    /// The values, the last repeated up to the next power of two. Raw SQL is compiled once per distinct text, and a
    /// batch's number of values varies: padded, every list of up to 4096 values is one of thirteen texts, not one of
    /// 4096, and EF does not spend the first minutes of a busy instance compiling (a value twice in a list matches
    /// what it matched once).
    /// </summary>
    private static T[] Padded<T>(T[] values)
    {
        var padded = new T[(int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, values.Length))];
        for (var i = 0; i < padded.Length; i++)
        {
            padded[i] = values[Math.Min(i, values.Length - 1)];
        }

        return padded;
    }

    /// <summary>
    /// Writes a batch of new messages, the conversation rows they changed (inserted or updated) and the last number
    /// they took (<paramref name="lastSequence"/>) in one command of three statements, inside the caller's
    /// transaction: one round trip whatever the batch's size, where a statement per entity would cost a round trip
    /// (and EF's bookkeeping) for each.
    /// The conversations carry their last message, and in <see cref="Conversation.UnreadCount"/> how many unread
    /// messages the batch adds to them: the stored rows are updated without being read first.
    /// </summary>
    /// <remarks>
    /// The command is written straight into one buffer: through EF's raw SQL, the text of a batch of 500 messages
    /// (250 KB) was copied twice more, and building it was 29 % of all the server allocated (docs/benchmarks.md).
    /// </remarks>
    public virtual async Task StoreBatchAsync(
        IReadOnlyList<Message> messages, IReadOnlyCollection<Conversation> conversations, long lastSequence, CancellationToken cancellationToken)
    {
        await using var command = CreateWriteCommand();
        var sql = new StringBuilder();

        // What this writer computed or checked goes in as literals (numbers, times, ids of letters, digits and
        // "_-:."), anything else, the text above all, as parameters: each parameter costs the provider a DbParameter
        // and its type mapping, which was a tenth of the server's CPU on MariaDB.
        void Value(object? value)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@p" + command.Parameters.Count.ToString(CultureInfo.InvariantCulture);
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
            sql.Append(parameter.ParameterName);
        }

        void Number(long value) => sql.Append(CultureInfo.InvariantCulture, $"{value}");
        void Time(DateTimeOffset value) => sql.Append(CultureInfo.InvariantCulture, $"'{value.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}'");
        void Id(string? value)
        {
            if (value is null)
            {
                sql.Append("NULL");
            }
            else if (IsPlainId(value))
            {
                sql.Append('\'').Append(value).Append('\'');
            }
            else
            {
                Value(value);
            }
        }

        sql.Append("INSERT INTO Messages (Id, ConversationId, SenderId, ReceiverId, Text, SentAt, ClientMessageId, SenderSequence, ReceiverSequence, ConversationSequence) VALUES ");
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            sql.Append(i == 0 ? "(" : ", (");
            Id(m.Id);
            sql.Append(", ");
            Id(m.ConversationId);
            sql.Append(", ");
            Id(m.SenderId);
            sql.Append(", ");
            Id(m.ReceiverId);
            sql.Append(", ");
            Value(m.Text);
            sql.Append(", ");
            Time(m.SentAt);
            sql.Append(", ");
            Id(m.ClientMessageId);
            sql.Append(", ");
            Number(m.SenderSequence);
            sql.Append(", ");
            Number(m.ReceiverSequence);
            sql.Append(", ");
            Number(m.ConversationSequence);
            sql.Append(')');
        }

        sql.Append(";\nINSERT INTO Conversations (UserId, PeerId, LastMessageId, LastSequence, ReadUpTo, ReadSequence, UnreadCount) VALUES ");
        var first = true;
        foreach (var c in conversations)
        {
            sql.Append(first ? "(" : ", (");
            first = false;
            Id(c.UserId);
            sql.Append(", ");
            Id(c.PeerId);
            sql.Append(", ");
            Id(c.LastMessageId);
            sql.Append(", ");
            Number(c.LastSequence);
            sql.Append(", ");
            Id(c.ReadUpTo);
            sql.Append(", ");
            Number(c.ReadSequence);
            sql.Append(", ");
            Number(c.UnreadCount);
            sql.Append(')');
        }

        sql.Append(UpsertConversationClause);
        sql.Append(";\n").Append(UpdateSequenceSql(lastSequence));
        command.CommandText = sql.Append(';').ToString();
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A command in the write transaction (<see cref="BeginWriteAsync"/>) the caller is in.</summary>
    protected DbCommand CreateWriteCommand()
    {
        var transaction = Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Belongs to a write: call it inside BeginWriteAsync's transaction.");
        var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        return command;
    }

    protected static string UpdateSequenceSql(long last) =>
        string.Create(CultureInfo.InvariantCulture, $"UPDATE MessageCounter SET Last = {last} WHERE Id = {MessageCounter.OnlyId}");

    /// <summary>What turns the conversations' INSERT into an upsert of their last message, adding to their unread count.</summary>
    protected abstract string UpsertConversationClause { get; }

    /// <summary>A transaction for a write: storing messages, or moving a read marker.</summary>
    public abstract Task<IDbContextTransaction> BeginWriteAsync(CancellationToken cancellationToken);

    /// <summary>What makes a SELECT lock the rows it reads.</summary>
    protected abstract string LockingClause { get; }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var user = modelBuilder.Entity<User>();
        user.ToTable("Users");
        user.HasKey(u => u.Id);
        user.Property(u => u.Id).HasMaxLength(IdLength).IsUnicode(false);
        user.Property(u => u.Username).HasMaxLength(AccountRules.UsernameMaxLength);
        user.Property(u => u.NormalizedUsername).HasMaxLength(AccountRules.UsernameMaxLength);
        user.Property(u => u.Email).HasMaxLength(AccountRules.EmailMaxLength);
        user.Property(u => u.NormalizedEmail).HasMaxLength(AccountRules.EmailMaxLength);
        user.Property(u => u.PasswordHash).HasMaxLength(512).IsUnicode(false);
        user.Property(u => u.AvatarUrl).HasMaxLength(2048);

        // The database, not a prior lookup, decides who wins two racing signups; the username index also serves
        // the prefix search.
        user.HasIndex(u => u.NormalizedUsername).IsUnique();
        user.HasIndex(u => u.NormalizedEmail).IsUnique();

        var message = modelBuilder.Entity<Message>();
        message.ToTable("Messages");
        message.HasKey(m => m.Id);
        message.Property(m => m.Id).HasMaxLength(IdLength).IsUnicode(false);
        message.Property(m => m.ConversationId).HasMaxLength(ConversationIdLength).IsUnicode(false);
        message.Property(m => m.SenderId).HasMaxLength(IdLength).IsUnicode(false);
        message.Property(m => m.ReceiverId).HasMaxLength(IdLength).IsUnicode(false);
        message.Property(m => m.Text).HasMaxLength(OutgoingMessage.MaxTextLength);
        message.Property(m => m.ClientMessageId).HasMaxLength(OutgoingMessage.MaxClientMessageIdLength).IsUnicode(false);
        // A retry finds its first attempt here, on any instance (and two at once cannot both store).
        message.HasIndex(m => new { m.SenderId, m.ClientMessageId }).IsUnique();
        // Sync reads a user's sent and received messages in their sequence; history reads a conversation in order.
        message.HasIndex(m => new { m.SenderId, m.SenderSequence }).IsUnique();
        message.HasIndex(m => new { m.ReceiverId, m.ReceiverSequence }).IsUnique();
        message.HasIndex(m => new { m.ConversationId, m.ConversationSequence }).IsUnique();

        var conversation = modelBuilder.Entity<Conversation>();
        conversation.ToTable("Conversations");
        conversation.HasKey(c => new { c.UserId, c.PeerId });
        conversation.Property(c => c.UserId).HasMaxLength(IdLength).IsUnicode(false);
        conversation.Property(c => c.PeerId).HasMaxLength(IdLength).IsUnicode(false);
        conversation.Property(c => c.LastMessageId).HasMaxLength(IdLength).IsUnicode(false);
        conversation.Property(c => c.ReadUpTo).HasMaxLength(IdLength).IsUnicode(false);
        // A user's conversations, most recently stored message first.
        conversation.HasIndex(c => new { c.UserId, c.LastSequence });

        var counter = modelBuilder.Entity<MessageCounter>();
        counter.ToTable("MessageCounter");
        counter.HasKey(c => c.Id);
        counter.Property(c => c.Id).ValueGeneratedNever();

        var block = modelBuilder.Entity<Block>();
        block.ToTable("Blocks");
        block.HasKey(b => new { b.BlockerId, b.BlockedId });
        block.Property(b => b.BlockerId).HasMaxLength(IdLength).IsUnicode(false);
        block.Property(b => b.BlockedId).HasMaxLength(IdLength).IsUnicode(false);
        // Who blocked a user, read each time presence is shown to them.
        block.HasIndex(b => b.BlockedId);
    }
}

public sealed class MySqlChatDbContext(DbContextOptions<MySqlChatDbContext> options) : ChatDbContext(options)
{
    protected override string LockingClause => " FOR UPDATE";

    protected override string UpsertConversationClause =>
        " ON DUPLICATE KEY UPDATE LastMessageId = VALUES(LastMessageId), LastSequence = VALUES(LastSequence), UnreadCount = UnreadCount + VALUES(UnreadCount)";

    // Read committed: what a transaction reads after taking its locks includes everything committed before it got
    // them (repeatable read would keep the snapshot of its first read), and no gap locks between concurrent inserts.
    public override Task<IDbContextTransaction> BeginWriteAsync(CancellationToken cancellationToken) =>
        Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);

        // MySQL 8's default collation is accent-insensitive: compare the already upper-cased forms byte for byte,
        // so "JOSÉ" and "JOSE" stay two names on MariaDB and MySQL alike.
        // Ids are compared exactly, as SignalR compares them.
        var user = modelBuilder.Entity<User>();
        user.Property(u => u.Id).HasCharSet("ascii").UseCollation("ascii_bin");
        user.Property(u => u.NormalizedUsername).UseCollation("utf8mb4_bin");
        user.Property(u => u.NormalizedEmail).UseCollation("utf8mb4_bin");

        var message = modelBuilder.Entity<Message>();
        foreach (var property in new[] { "Id", "ConversationId", "SenderId", "ReceiverId", "ClientMessageId" })
        {
            message.Property(property).HasCharSet("ascii").UseCollation("ascii_bin");
        }

        var conversation = modelBuilder.Entity<Conversation>();
        foreach (var property in new[] { "UserId", "PeerId", "LastMessageId", "ReadUpTo" })
        {
            conversation.Property(property).HasCharSet("ascii").UseCollation("ascii_bin");
        }

        var block = modelBuilder.Entity<Block>();
        block.Property(b => b.BlockerId).HasCharSet("ascii").UseCollation("ascii_bin");
        block.Property(b => b.BlockedId).HasCharSet("ascii").UseCollation("ascii_bin");
    }
}

/// <summary>
/// SQLite serves one instance, and its transactions begin IMMEDIATE: a writer holds the whole database, so the rows
/// need no lock of their own.
/// </summary>
public sealed class SqliteChatDbContext(DbContextOptions<SqliteChatDbContext> options) : ChatDbContext(options)
{
    protected override string LockingClause => "";

    /// <summary>
    /// SQLite looks each named parameter up in a list, when it prepares a statement and when it binds one, so a
    /// statement's cost grows with the square of its parameters: many small statements are cheaper in process.
    /// </summary>
    protected override int MaxParameters => 64;

    protected override string UpsertConversationClause =>
        " ON CONFLICT (UserId, PeerId) DO UPDATE SET LastMessageId = excluded.LastMessageId, LastSequence = excluded.LastSequence, UnreadCount = UnreadCount + excluded.UnreadCount";

    public override Task<IDbContextTransaction> BeginWriteAsync(CancellationToken cancellationToken) =>
        Database.BeginTransactionAsync(cancellationToken);

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);

        // Only sends with a clientMessageId are looked up by it: SendRaw's messages (none) cost the index nothing.
        // (MySQL has no partial index; there, NULLs never collide either.)
        modelBuilder.Entity<Message>().HasIndex(m => new { m.SenderId, m.ClientMessageId }).HasFilter("ClientMessageId IS NOT NULL");
    }

    /// <summary>
    /// SQLite looks each named parameter up in a list, so one statement with a parameter per value costs the square of
    /// the batch; what it does fast is one prepared statement per table, bound and stepped once per row.
    /// </summary>
    public override async Task StoreBatchAsync(
        IReadOnlyList<Message> messages, IReadOnlyCollection<Conversation> conversations, long lastSequence, CancellationToken cancellationToken)
    {
        await RunAsync(
            "INSERT INTO Messages (Id, ConversationId, SenderId, ReceiverId, Text, SentAt, ClientMessageId, SenderSequence, ReceiverSequence, ConversationSequence) " +
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            messages.Select(m => new object?[]
            {
                m.Id, m.ConversationId, m.SenderId, m.ReceiverId, m.Text, m.SentAt, m.ClientMessageId, m.SenderSequence, m.ReceiverSequence,
                m.ConversationSequence,
            }));
        await RunAsync(
            "INSERT INTO Conversations (UserId, PeerId, LastMessageId, LastSequence, ReadUpTo, ReadSequence, UnreadCount) VALUES ($1, $2, $3, $4, $5, $6, $7)" +
            UpsertConversationClause,
            conversations.Select(c => new object?[] { c.UserId, c.PeerId, c.LastMessageId, c.LastSequence, c.ReadUpTo, c.ReadSequence, c.UnreadCount }));
        await RunAsync(UpdateSequenceSql(lastSequence), [[]]);

        async Task RunAsync(string sql, IEnumerable<object?[]> rows)
        {
            await using var command = CreateWriteCommand();
            command.CommandText = sql;
            var parameters = new List<DbParameter>();
            foreach (var row in rows)
            {
                for (var i = parameters.Count; i < row.Length; i++)
                {
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = "$" + (i + 1);
                    command.Parameters.Add(parameter);
                    parameters.Add(parameter);
                }

                for (var i = 0; i < row.Length; i++)
                {
                    // DateTimeOffset as EF's SQLite mapping writes it, so that reads compare and parse it alike.
                    parameters[i].Value = row[i] switch
                    {
                        null => DBNull.Value,
                        DateTimeOffset time => time.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture),
                        var value => value,
                    };
                }

                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }
    }
}
