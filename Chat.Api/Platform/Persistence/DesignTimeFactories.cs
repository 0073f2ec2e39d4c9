using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Chat.Api.Platform.Persistence;

// Used only by `dotnet ef migrations add`: no server is contacted, so the MySQL version is stated.
internal sealed class MySqlDesignTimeFactory : IDesignTimeDbContextFactory<MySqlChatDbContext>
{
    public MySqlChatDbContext CreateDbContext(string[] args) => new(new DbContextOptionsBuilder<MySqlChatDbContext>()
        .UseMySql("Server=localhost;Database=chat", new MySqlServerVersion(new Version(8, 4)))
        .Options);
}

internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteChatDbContext>
{
    public SqliteChatDbContext CreateDbContext(string[] args) => new(new DbContextOptionsBuilder<SqliteChatDbContext>()
        .UseSqlite("Data Source=chat.db")
        .Options);
}
