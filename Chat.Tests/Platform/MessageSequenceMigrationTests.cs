using Chat.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Chat.Tests.Platform;

public sealed class MessageSequenceMigrationTests : IDisposable
{
    private readonly string file = Path.Combine(Path.GetTempPath(), $"chat-migration-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task The_shared_message_sequence_goes_on_past_every_number_the_users_own_sequences_gave()
    {
        await using var db = new SqliteChatDbContext(
            new DbContextOptionsBuilder<SqliteChatDbContext>().UseSqlite($"Data Source={file};Pooling=False").Options);
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync("20261207214141_PartialClientMessageIdIndex");
        await db.Database.ExecuteSqlRawAsync(
            "INSERT INTO Users (Id, Username, NormalizedUsername, Email, NormalizedEmail, PasswordHash, AvatarUrl, CreatedAt, MessageSequence) VALUES " +
            "('a', 'a', 'A', 'a@example.com', 'A@EXAMPLE.COM', 'h', 'u', '2026-12-08 00:00:00+00:00', 7), " +
            "('b', 'b', 'B', 'b@example.com', 'B@EXAMPLE.COM', 'h', 'u', '2026-12-08 00:00:00+00:00', 12)");

        await migrator.MigrateAsync();

        // Cursors handed out before (at most 12 here) stay valid: every message stored from now on takes 13 or more.
        Assert.Equal(12, (await db.Set<MessageCounter>().SingleAsync()).Last);
    }

    public void Dispose() => File.Delete(file);
}
