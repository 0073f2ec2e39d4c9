using Chat.Domain.Users;
using Microsoft.EntityFrameworkCore;

namespace Chat.Api.Platform.Persistence;

/// <summary>
/// The model shared by both providers. Each provider has its own subclass so that each keeps its own migrations
/// (MySQL and SQLite DDL differ); the rest of the app only ever asks for <see cref="ChatDbContext"/>.
/// </summary>
public abstract class ChatDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var user = modelBuilder.Entity<User>();
        user.ToTable("Users");
        user.HasKey(u => u.Id);
        user.Property(u => u.Id).HasMaxLength(32).IsUnicode(false);
        user.Property(u => u.Username).HasMaxLength(AccountRules.UsernameMaxLength);
        user.Property(u => u.NormalizedUsername).HasMaxLength(AccountRules.UsernameMaxLength);
        user.Property(u => u.Email).HasMaxLength(AccountRules.EmailMaxLength);
        user.Property(u => u.NormalizedEmail).HasMaxLength(AccountRules.EmailMaxLength);
        user.Property(u => u.PasswordHash).HasMaxLength(512).IsUnicode(false);
        user.Property(u => u.AvatarUrl).HasMaxLength(2048);

        // The database, not a prior lookup, decides who wins two racing signups.
        user.HasIndex(u => u.NormalizedUsername).IsUnique();
        user.HasIndex(u => u.NormalizedEmail).IsUnique();
    }
}

public sealed class MySqlChatDbContext(DbContextOptions<MySqlChatDbContext> options) : ChatDbContext(options)
{
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
    }
}

public sealed class SqliteChatDbContext(DbContextOptions<SqliteChatDbContext> options) : ChatDbContext(options);
