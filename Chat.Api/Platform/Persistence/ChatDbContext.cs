using Chat.Domain.Messaging;
using Chat.Domain.Users;
using System.Buffers;
using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using MySqlConnector;

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
    /// The user's row of a conversation, locked until the transaction ends: how <c>MarkRead</c> takes its turn with a
    /// writer that adds to the conversation's unread count. Null while the conversation holds no message.
    /// </summary>
    public async Task<Conversation?> LockConversationAsync(string userId, string peerId, CancellationToken cancellationToken) =>
        (await Conversations.FromSqlRaw("SELECT * FROM Conversations WHERE UserId = {0} AND PeerId = {1}" + LockingClause, userId, peerId)
            .ToListAsync(cancellationToken)).SingleOrDefault();

    /// <summary>The users <paramref name="userId"/> blocked or is blocked by: neither of a pair sees the other's presence.</summary>
    public async Task<HashSet<string>> BlockedEitherWayAsync(string userId, CancellationToken cancellationToken) =>
        (await Blocks.AsNoTracking()
            .Where(b => b.BlockerId == userId || b.BlockedId == userId)
            .Select(b => b.BlockerId == userId ? b.BlockedId : b.BlockerId)
            .ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);

    private static readonly SearchValues<char> PlainIdCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-:.");

    /// <summary>Whether <paramref name="value"/> is made of letters, digits and "_-:." only, so it can be an SQL literal as it is.</summary>
    private static bool IsPlainId(string value) => !value.AsSpan().ContainsAnyExcept(PlainIdCharacters);

    /// <summary>
    /// Opens a connection for the message writer alone, which it holds across its batches and whose transactions it
    /// begins and commits in the text of its commands (<see cref="BeginBatchAsync"/>, <see cref="CommitBatchAsync"/>):
    /// two round trips a batch. Not pooled, so that closing it ends the transaction it is in at once (a pooled one
    /// would wait in the pool, the sequence still locked, until it is next taken out).
    /// </summary>
    public abstract Task<DbConnection> OpenWriterConnectionAsync(CancellationToken cancellationToken);

    /// <summary>The connection string the writer's connection starts from: the context's own.</summary>
    protected string WriterConnectionString =>
        Database.GetConnectionString() ?? throw new InvalidOperationException("The database has no connection string.");

    /// <summary>What begins a batch's transaction (<see cref="BeginBatchAsync"/>).</summary>
    protected abstract string BeginBatchSql { get; }

    /// <summary>
    /// Begins a batch's transaction on the writer's connection, locks the message sequence and reads under that lock
    /// what deciding the batch's sends needs, all in one command. The counter stays locked until the batch commits:
    /// each batch takes the next numbers and stores the last (<see cref="CommitBatchAsync"/>), so the one that takes
    /// number n+1 waits for the one that took n to commit, and a number becomes visible only after every smaller one
    /// did: sync, ordered by number, never skips (see <see cref="Message"/>). A repeat or a block committed before the
    /// lock was taken is seen here, whichever instance committed it.
    /// </summary>
    /// <param name="connection">The writer's connection (<see cref="OpenWriterConnectionAsync"/>), in no transaction.</param>
    /// <param name="userIds">The batch's senders and receivers: the blocks they made are read.</param>
    /// <param name="keys">The (sender, clientMessageId) of its keyed sends: the ids of messages stored with them are read.</param>
    /// <param name="conversations">The (user, peer) conversations not known to hold a message: those that do are read.</param>
    /// <param name="cancellationToken">Ends the wait: the caller then closes the connection, which ends the transaction.</param>
    public async Task<BatchReads> BeginBatchAsync(
        DbConnection connection,
        IReadOnlyCollection<string> userIds,
        IReadOnlyCollection<(string Sender, string Key)> keys,
        IReadOnlyCollection<(string User, string Peer)> conversations,
        CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        var sql = new StringBuilder(BeginBatchSql)
            .Append(CultureInfo.InvariantCulture, $";\nSELECT Last FROM MessageCounter WHERE Id = {MessageCounter.OnlyId}{LockingClause}");
        var userChunks = userIds.Chunk(MaxParameters).ToList();
        foreach (var chunk in userChunks)
        {
            sql.Append(";\nSELECT BlockerId, BlockedId FROM Blocks WHERE BlockerId IN (");
            for (var i = 0; i < chunk.Length; i++)
            {
                sql.Append(i == 0 ? "" : ", ");
                Literal(command, sql, chunk[i]);
            }

            sql.Append(')');
        }

        var keyChunks = keys.Chunk(MaxParameters / 2).ToList();
        foreach (var chunk in keyChunks)
        {
            Matching(command, sql, "t.SenderId, t.ClientMessageId, t.Id", "Messages", "SenderId", "ClientMessageId", chunk);
        }

        var conversationChunks = conversations.Chunk(MaxParameters / 2).ToList();
        foreach (var chunk in conversationChunks)
        {
            Matching(command, sql, "t.UserId, t.PeerId", "Conversations", "UserId", "PeerId", chunk);
        }

        command.CommandText = sql.ToString();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var reads = new BatchReads(reader.GetInt64(0));
        // The result sets come in the order of the statements: blocks, repeats, started conversations.
        for (var i = 0; i < userChunks.Count + keyChunks.Count + conversationChunks.Count; i++)
        {
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var pair = (reader.GetString(0), reader.GetString(1));
                if (i < userChunks.Count)
                {
                    reads.Blocks.Add(pair);
                }
                else if (i < userChunks.Count + keyChunks.Count)
                {
                    reads.Repeats[pair] = reader.GetString(2);
                }
                else
                {
                    reads.Started.Add(pair);
                }
            }
        }

        return reads;
    }

    /// <summary>
    /// Appends a SELECT of <paramref name="columns"/> of the rows of <paramref name="table"/> whose two key columns hold
    /// one of <paramref name="pairs"/>: the pairs are a derived table joined on the key, one index lookup each. Two IN
    /// lists would look up every combination of their values (256 users, 65,536 lookups), and MariaDB plans an OR of
    /// 600 pairs, or a row IN list, in 200–350 ms against 3 ms for this join.
    /// </summary>
    /// <remarks>The names are the model's own, never input.</remarks>
    private static void Matching(
        DbCommand command, StringBuilder sql, string columns, string table, string first, string second, (string, string)[] pairs)
    {
        sql.Append(";\nSELECT ").Append(columns).Append(" FROM (");
        for (var i = 0; i < pairs.Length; i++)
        {
            sql.Append(i == 0 ? "SELECT " : " UNION ALL SELECT ");
            Literal(command, sql, pairs[i].Item1);
            sql.Append(i == 0 ? " AS A, " : ", ");
            Literal(command, sql, pairs[i].Item2);
            sql.Append(i == 0 ? " AS B" : "");
        }

        sql.Append(") AS k JOIN ").Append(table).Append(" t ON t.").Append(first).Append(" = k.A AND t.").Append(second).Append(" = k.B");
    }

    /// <summary>
    /// Appends <paramref name="value"/> as a literal when it is a plain id, as all of Chat's ids are
    /// (<see cref="IsPlainId"/>), else as a parameter: each parameter costs the provider a DbParameter and its type
    /// mapping, which was a tenth of the server's CPU on MariaDB when every value of a batch was one.
    /// </summary>
    private static void Literal(DbCommand command, StringBuilder sql, string? value)
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
            Parameter(command, sql, value);
        }
    }

    private static void Parameter(DbCommand command, StringBuilder sql, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@p" + command.Parameters.Count.ToString(CultureInfo.InvariantCulture);
        parameter.Value = value;
        command.Parameters.Add(parameter);
        sql.Append(parameter.ParameterName);
    }

    /// <summary>How many values one statement of <see cref="BeginBatchAsync"/> names at most.</summary>
    protected virtual int MaxParameters => 4096;

    /// <summary>
    /// Writes a batch's new messages, the conversation rows they changed (inserted or updated) and the last number they
    /// took (<paramref name="lastSequence"/>), and commits the transaction <see cref="BeginBatchAsync"/> began, in one
    /// command: one round trip whatever the batch's size. The conversations carry their last message, and in
    /// <see cref="Conversation.UnreadCount"/> how many unread messages the batch adds to them: the stored rows are
    /// updated without being read first. With no messages (the batch's sends were all repeats or refused), it only
    /// commits.
    /// </summary>
    /// <remarks>
    /// The command is written straight into one buffer: through EF's raw SQL, the text of a batch of 500 messages
    /// (250 KB) was copied twice more, and building it was 29 % of all the server allocated (docs/benchmarks.md).
    /// </remarks>
    public virtual async Task CommitBatchAsync(
        DbConnection connection, IReadOnlyList<Message> messages, IReadOnlyCollection<Conversation> conversations, long lastSequence,
        CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        var sql = new StringBuilder();
        if (messages.Count > 0)
        {
            AppendStore(command, sql, messages, conversations, lastSequence);
        }

        command.CommandText = sql.Append("COMMIT").ToString();
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The three statements that store a batch. What the writer computed or checked goes in as literals (numbers,
    /// times, plain ids), anything else, the text above all, as parameters.
    /// </summary>
    private void AppendStore(
        DbCommand command, StringBuilder sql, IReadOnlyList<Message> messages, IReadOnlyCollection<Conversation> conversations, long lastSequence)
    {
        void Number(long value) => sql.Append(CultureInfo.InvariantCulture, $"{value}");
        void Time(DateTimeOffset value) => sql.Append(CultureInfo.InvariantCulture, $"'{value.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}'");
        void Id(string? value) => Literal(command, sql, value);

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
            Parameter(command, sql, m.Text);
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
        sql.Append(";\n").Append(UpdateSequenceSql(lastSequence)).Append(";\n");
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

    protected override string BeginBatchSql => "START TRANSACTION";

    public override async Task<DbConnection> OpenWriterConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new MySqlConnection(new MySqlConnectionStringBuilder(WriterConnectionString) { Pooling = false }.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            // Read committed, as BeginWriteAsync's, for every transaction of the connection (it is the writer's alone).
            await using var command = connection.CreateCommand();
            command.CommandText = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

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

    protected override string BeginBatchSql => "BEGIN IMMEDIATE";

    public override async Task<DbConnection> OpenWriterConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder(WriterConnectionString) { Pooling = false }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            await SqliteConnectionSettings.ApplyAsync(connection, cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

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
    public override async Task CommitBatchAsync(
        DbConnection connection, IReadOnlyList<Message> messages, IReadOnlyCollection<Conversation> conversations, long lastSequence,
        CancellationToken cancellationToken)
    {
        if (messages.Count > 0)
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
        }

        await RunAsync("COMMIT", [[]]);

        async Task RunAsync(string sql, IEnumerable<object?[]> rows)
        {
            await using var command = connection.CreateCommand();
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
