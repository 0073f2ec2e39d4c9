using System.Net;
using System.Text.Json;
using Chat.Tests.Fixtures;
using static Chat.Tests.Messaging.MessagingTestKit;

namespace Chat.Tests.Messaging;

/// <summary>"Messages (v2)", <c>GET /api/users/search</c>: how a conversation starts with someone who is offline.</summary>
public abstract class UserSearchTests(ChatApp app)
{
    /// <summary>A prefix no other test's username starts with: letters and digits only.</summary>
    private static string NewPrefix() => "s" + Guid.NewGuid().ToString("N")[..9];

    private async Task<List<JsonElement>> SearchAsync(TestUser asUser, string q, string? limit = null)
    {
        var answer = await app.GetJsonAsync(asUser, $"/api/users/search?q={Uri.EscapeDataString(q)}" + (limit is null ? "" : $"&limit={limit}"));
        return answer.EnumerateArray().ToList();
    }

    private static List<string?> Names(IEnumerable<JsonElement> users) => users.Select(u => u.GetProperty("username").GetString()).ToList();

    [Fact]
    public async Task Search_lists_users_whose_username_starts_with_q_ignoring_case_shortest_first_then_alphabetically()
    {
        var searcher = await app.CreateUserAsync();
        var prefix = NewPrefix();
        string[] names = [prefix + "Ba", prefix + "zzz", prefix + "ab", prefix + "c", "x" + prefix, prefix + "Zy"];
        var ids = new Dictionary<string, string>();
        foreach (var name in names)
        {
            ids[name] = await app.SignupNamedAsync(name);
        }

        var found = await SearchAsync(searcher, prefix.ToUpperInvariant());

        string[] expected = [prefix + "c", prefix + "ab", prefix + "Ba", prefix + "Zy", prefix + "zzz"];
        Assert.Equal(expected, Names(found));
        Assert.All(found, user =>
        {
            Assert.Equal(["avatarUrl", "id", "username"], FieldsOf(user).Except(["online", "lastSeenAt"]));
            Assert.Equal(ids[user.GetProperty("username").GetString()!], user.GetProperty("id").GetString());
            Assert.StartsWith("https://", user.GetProperty("avatarUrl").GetString());
        });
        Assert.Equal(expected, Names(await SearchAsync(searcher, prefix)));
        Assert.Equal([prefix + "Ba"], Names(await SearchAsync(searcher, (prefix + "b").ToUpperInvariant())));
        Assert.Equal(expected[..2], Names(await SearchAsync(searcher, prefix, limit: "2")));
    }

    [Fact]
    public async Task A_user_found_by_search_can_be_written_to_while_offline()
    {
        var alice = await app.CreateUserAsync();
        var prefix = NewPrefix();
        var bobId = await app.SignupNamedAsync(prefix + "bob");
        await using var connection = await app.ConnectAsync(alice);

        var found = Assert.Single(await SearchAsync(alice, prefix));
        var receipt = await connection.SendAsync(found.GetProperty("id").GetString()!, "found you");

        Assert.Equal(bobId, receipt.ReceiverId);
        Assert.Equal([receipt.Id], (await app.HistoryAsync(alice, bobId)).Messages.Select(m => m.Id));
    }

    [Fact]
    public async Task Search_takes_q_literally_so_characters_that_are_wildcards_elsewhere_match_only_themselves()
    {
        var searcher = await app.CreateUserAsync();
        var prefix = NewPrefix();
        await app.SignupNamedAsync(prefix + "_x");
        await app.SignupNamedAsync(prefix + "yx");
        await app.SignupNamedAsync(prefix + "y.z");

        Assert.Equal([prefix + "_x"], Names(await SearchAsync(searcher, prefix + "_")));
        Assert.Empty(await SearchAsync(searcher, prefix + "%"));
        Assert.Empty(await SearchAsync(searcher, prefix + "*"));
        Assert.Equal([prefix + "y.z"], Names(await SearchAsync(searcher, prefix + "y.")));
    }

    [Fact]
    public async Task A_prefix_no_username_starts_with_gives_an_empty_list()
    {
        var searcher = await app.CreateUserAsync();

        Assert.Empty(await SearchAsync(searcher, NewPrefix()));
        Assert.Empty(await SearchAsync(searcher, "zz" + NewPrefix()));
    }

    [Fact]
    public async Task A_q_with_spaces_matches_no_username_since_usernames_have_none()
    {
        var searcher = await app.CreateUserAsync();
        var prefix = NewPrefix();
        await app.SignupNamedAsync(prefix + "abc");

        Assert.Empty(await SearchAsync(searcher, " " + prefix));
        Assert.Empty(await SearchAsync(searcher, prefix + " "));
    }

    [Fact]
    public async Task The_shortest_and_longest_q_and_limit_are_allowed()
    {
        var searcher = await app.CreateUserAsync();
        var prefix = NewPrefix();
        var longest = prefix + new string('q', 32 - prefix.Length);
        await app.SignupNamedAsync(longest);

        Assert.Equal([longest], Names(await SearchAsync(searcher, longest, limit: "20")));
        Assert.Equal([longest], Names(await SearchAsync(searcher, longest, limit: "1")));
        Assert.InRange((await SearchAsync(searcher, "u1", limit: "1")).Count, 0, 1);
        Assert.InRange((await SearchAsync(searcher, searcher.Username[..2])).Count, 1, 10);
        Assert.InRange((await SearchAsync(searcher, searcher.Username[..2], limit: "20")).Count, 1, 20);
    }

    public static TheoryData<string> BadQueries => new()
    {
        "",
        "?q=",
        "?q=a",
        "?q=" + new string('a', 33),
        "?q=ab&limit=0",
        "?q=ab&limit=21",
        "?q=ab&limit=abc",
        "?q=ab&limit=-1",
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task A_q_that_is_not_2_to_32_characters_or_a_limit_that_is_not_1_to_20_is_a_400_problem(string query)
    {
        var searcher = await app.CreateUserAsync();

        await app.AssertProblemAsync(searcher, "/api/users/search" + query, HttpStatusCode.BadRequest, query.Contains("limit") ? "limit" : "q");
    }
}

[Collection(MySqlRedisChat.Name)]
public sealed class UserSearchOnMySqlAndRedisTests(MySqlRedisChat chat) : UserSearchTests(chat.App);

[Collection(EmbeddedChat.Name)]
public sealed class UserSearchEmbeddedTests(EmbeddedChat chat) : UserSearchTests(chat.App);
