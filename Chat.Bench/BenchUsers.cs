using System.Text;
using Chat.Domain.Messaging;
using Chat.Domain.Users;
using Chat.Api.Platform.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chat.Bench;

/// <summary>
/// Benchmark users, inserted in batches with one precomputed password hash (hashing is not what is measured), and
/// access tokens minted with the server's signing key, as Chat's own issuer would. With contacts, each user of the
/// range shares a conversation with the <c>contacts</c> users nearest to it on a ring (half before, half after), as
/// if they had exchanged messages: whom presence events go to.
/// </summary>
public static class BenchUsers
{
    public static string Id(int index) => $"bench{index:D10}";

    public static async Task SeedAsync(int count, string? mySql, string? contentRoot, int first = 0, int contacts = 0)
    {
        await using var db = CreateContext(mySql, contentRoot);
        await db.Database.MigrateAsync();
        var existing = (await db.Users.Where(u => u.Id.StartsWith("bench")).Select(u => u.Id).ToListAsync()).ToHashSet();
        var hash = new PasswordHasher<User>().HashPassword(null!, "bench-password");
        var now = DateTimeOffset.UtcNow;
        var added = 0;
        foreach (var chunk in Enumerable.Range(first, count).Where(i => !existing.Contains(Id(i))).Chunk(1000))
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
        if (contacts > 0 && !await db.Conversations.AnyAsync(c => c.UserId == Id(first)))
        {
            await SeedContactsAsync(db, first, count, contacts);
        }
    }

    /// <summary>User <c>first + i</c>'s contacts: the users at ring distance 1 to contacts/2 on either side.</summary>
    public static IEnumerable<int> Contacts(int first, int count, int contacts, int user) =>
        Enumerable.Range(1, contacts / 2).SelectMany(d => new[] { d, -d })
            .Select(d => first + (((user - first + d) % count) + count) % count);

    private static async Task SeedContactsAsync(ChatDbContext db, int first, int count, int contacts)
    {
        var rows = Enumerable.Range(first, count)
            .SelectMany(user => Contacts(first, count, contacts, user).Select(peer => new Conversation
            {
                UserId = Id(user),
                PeerId = Id(peer),
                LastMessageId = "bench-seeded",
                LastSequence = 0,
            }));
        foreach (var chunk in rows.Chunk(2000))
        {
            db.Conversations.AddRange(chunk);
            await db.SaveChangesAsync();
            db.ChangeTracker.Clear();
        }

        Console.Error.WriteLine($"seeded {contacts} contacts for each of {count} users");
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
