using Chat.Api.Platform.Persistence;
using Chat.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Platform;

[Collection(EmbeddedChat.Name)]
public sealed class EmbeddedDatabaseTests(EmbeddedChat chat)
{
    [Fact]
    public async Task Every_connection_to_the_embedded_database_logs_ahead_checkpoints_at_ten_thousand_pages_waits_out_a_busy_database_and_caches_64_MB()
    {
        await chat.App.CreateUserAsync(); // a write, so that pooled connections have been opened and used before

        await using var scope = chat.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        await db.Database.OpenConnectionAsync();
        await using var command = db.Database.GetDbConnection().CreateCommand();

        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", await command.ExecuteScalarAsync());
        command.CommandText = "PRAGMA wal_autocheckpoint";
        Assert.Equal((long)SqliteConnectionSettings.CheckpointPages, await command.ExecuteScalarAsync());
        command.CommandText = "PRAGMA busy_timeout";
        Assert.Equal((long)SqliteConnectionSettings.BusyTimeoutMilliseconds, await command.ExecuteScalarAsync());
        command.CommandText = "PRAGMA cache_size"; // negative: a size in KiB, not in pages
        Assert.Equal(-(long)SqliteConnectionSettings.CacheKibibytes, await command.ExecuteScalarAsync());
    }
}
