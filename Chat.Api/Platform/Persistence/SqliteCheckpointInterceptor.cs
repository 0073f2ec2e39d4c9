using System.Data.Common;
using System.Globalization;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Chat.Api.Platform.Persistence;

/// <summary>
/// Lets the embedded database's write-ahead log grow to <see cref="Pages"/> pages (40 MB of SQLite's 4 KB pages)
/// before a commit copies it into the database file, where SQLite's default is 1,000. The pages a batch of messages
/// changes (its users' and conversations' rows, the last pages of the indexes) are mostly those the batches before it
/// changed: copied ten times less often, they cost fewer writes and flushes of the file. Every commit is still flushed
/// to the log before it is acknowledged. Embedded S2, three A B pairs: 11,123 → 12,703 msg/s (docs/benchmarks.md).
/// </summary>
/// <remarks>The setting belongs to a connection, so it is set each time one is opened, pooled ones included.</remarks>
internal sealed class SqliteCheckpointInterceptor : DbConnectionInterceptor
{
    public const int Pages = 10_000;

    private static readonly string SetCheckpoint = "PRAGMA wal_autocheckpoint = " + Pages.ToString(CultureInfo.InvariantCulture);

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = SetCheckpoint;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = SetCheckpoint;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
