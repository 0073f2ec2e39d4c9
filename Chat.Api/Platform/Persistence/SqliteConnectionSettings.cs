using System.Data.Common;
using System.Globalization;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Chat.Api.Platform.Persistence;

/// <summary>
/// What every connection to the embedded database is set to when it opens (pooled ones included: the settings belong
/// to a connection, not to the file).
/// </summary>
/// <remarks>
/// <para>
/// The write-ahead log grows to <see cref="CheckpointPages"/> pages (40 MB of SQLite's 4 KB pages) before a commit
/// copies it into the database file, where SQLite's default is 1,000. The pages a batch of messages changes (its
/// users' and conversations' rows, the last pages of the indexes) are mostly those the batches before it changed:
/// copied ten times less often, they cost fewer writes and flushes of the file. Every commit is still flushed to the
/// log before it is acknowledged. Embedded S2, three A B pairs: 11,123 → 12,703 msg/s (docs/benchmarks.md).
/// </para>
/// <para>
/// A write that finds another one holding the database (a read marker while a batch of messages commits) waits in
/// SQLite's own busy handler, which retries within a millisecond or two and backs off to 100 ms, for up to
/// <see cref="BusyTimeoutMilliseconds"/>. Without it, Microsoft.Data.Sqlite sleeps 150 ms between attempts, so any
/// overlap of two writes cost the waiting one, and every send queued behind it, at least 150 ms.
/// </para>
/// <para>
/// Each connection keeps up to <see cref="CacheKibibytes"/> of pages in memory, where SQLite's default is 2 MB: a batch
/// of messages changes a thousand pages or so (the last pages of every user's and conversation's index ranges), so
/// with 500 pages cached the writer read most of them back from the file each batch (<c>pread</c>: 5 % of the
/// server's time in embedded S2, 0.4 % after). The cache fills only with pages a connection reads.
/// Embedded S2, four A B pairs: 14,462 → 15,905 msg/s (docs/benchmarks.md).
/// </para>
/// </remarks>
internal sealed class SqliteConnectionSettings : DbConnectionInterceptor
{
    public const int CheckpointPages = 10_000;

    public const int BusyTimeoutMilliseconds = 5_000;

    public const int CacheKibibytes = 65_536;

    private static readonly string Settings = string.Create(
        CultureInfo.InvariantCulture, $"PRAGMA wal_autocheckpoint = {CheckpointPages}; PRAGMA busy_timeout = {BusyTimeoutMilliseconds}; PRAGMA cache_size = -{CacheKibibytes};");

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Settings;
        command.ExecuteNonQuery();
    }

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default) =>
        ApplyAsync(connection, cancellationToken);

    /// <summary>Applies the settings to a connection opened outside EF (the message writer's).</summary>
    public static async Task ApplyAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Settings;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
