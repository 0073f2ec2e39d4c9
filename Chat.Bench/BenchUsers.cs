using System.Text;
using Chat.Domain.Users;
using Chat.Api.Platform.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chat.Bench;

/// <summary>
/// Benchmark users, inserted in batches with one precomputed password hash (hashing is not what is measured), and
/// access tokens minted with the server's signing key, as Chat's own issuer would.
/// </summary>
public static class BenchUsers
{
    public static string Id(int index) => $"bench{index:D10}";

    public static async Task SeedAsync(int count, string? mySql, string? contentRoot)
    {
        await using var db = CreateContext(mySql, contentRoot);
        await db.Database.MigrateAsync();
        var existing = (await db.Users.Where(u => u.Id.StartsWith("bench")).Select(u => u.Id).ToListAsync()).ToHashSet();
        var hash = new PasswordHasher<User>().HashPassword(null!, "bench-password");
        var now = DateTimeOffset.UtcNow;
        var added = 0;
        foreach (var chunk in Enumerable.Range(0, count).Where(i => !existing.Contains(Id(i))).Chunk(1000))
        {
            db.Users.AddRange(chunk.Select(i =>
            {
                var user = User.Create(Id(i), $"bench{i}", $"bench{i}@bench.invalid", now);
                user.PasswordHash = hash;
                user.AvatarUrl = "https://www.gravatar.com/avatar/00000000000000000000000000000000?d=identicon&s=256";
                return user;
            }));
            await db.SaveChangesAsync();
            db.ChangeTracker.Clear();
            added += chunk.Length;
        }

        Console.Error.WriteLine($"seeded {added} new users ({count} wanted)");
    }

    private static ChatDbContext CreateContext(string? mySql, string? contentRoot)
    {
        if (mySql is not null)
        {
            return new MySqlChatDbContext(new DbContextOptionsBuilder<MySqlChatDbContext>()
                .UseMySql(mySql, ServerVersion.AutoDetect(mySql)).Options);
        }

        var directory = Path.Combine(contentRoot ?? throw new ArgumentException("--content-root or --mysql is required"), "App_Data");
        Directory.CreateDirectory(directory);
        return new SqliteChatDbContext(new DbContextOptionsBuilder<SqliteChatDbContext>()
            .UseSqlite($"Data Source={Path.Combine(directory, "chat.db")}").Options);
    }

    public static string AccessToken(string signingKey, int index)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "chat",
            Audience = "chat",
            IssuedAt = now,
            NotBefore = now.AddMinutes(-1),
            Expires = now.AddHours(12),
            TokenType = "at+jwt",
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)), SecurityAlgorithms.HmacSha256),
            Claims = new Dictionary<string, object> { ["sub"] = Id(index), ["name"] = $"bench{index}" },
        });
    }
}
