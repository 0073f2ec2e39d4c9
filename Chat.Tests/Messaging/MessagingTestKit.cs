using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Chat.Domain.Messaging;
using Chat.Tests.Fixtures;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Chat.Tests.Messaging;

/// <summary>What the stored-message tests share: the answers' shapes, problem checks, and instances of a test's own.</summary>
internal static class MessagingTestKit
{
    /// <summary>The fields of a message, everywhere it appears.</summary>
    public static readonly string[] MessageFields = ["clientMessageId", "id", "receiverId", "senderId", "sentAt", "text"];

    /// <summary>The fields of a <c>SendRaw</c> or <c>Send</c> receipt.</summary>
    public static readonly string[] ReceiptFields = ["clientMessageId", "id", "receiverId", "sentAt"];

    public static string[] FieldsOf(JsonElement element) =>
        element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();

    public static void AssertIsMessage(JsonElement element) => Assert.Equal(MessageFields, FieldsOf(element));

    public static ChatMessage ToMessage(this JsonElement element) => element.Deserialize<ChatMessage>(JsonSerializerOptions.Web)!;

    /// <summary>The message the receiver of <paramref name="receipt"/> gets, as every read shows it.</summary>
    public static ChatMessage MessageOf(SendReceipt receipt, string senderId, string text) =>
        new(receipt.Id, senderId, receipt.ReceiverId, text, receipt.SentAt, receipt.ClientMessageId);

    /// <summary><c>Send</c> with any argument at all, for the calls whose argument is not the object it takes.</summary>
    public static Task<SendReceipt> SendArgumentAsync(this ChatConnection connection, object? argument) =>
        connection.Hub.InvokeAsync<SendReceipt>("Send", argument);

    /// <summary><c>MarkRead</c>, its answer read.</summary>
    public static async Task<ReadMarkerBody> MarkReadUpToAsync(this ChatConnection connection, string peerId, ChatMessage upTo)
    {
        var answer = await connection.MarkReadAsync(peerId, upTo.Id);
        Assert.Equal(["peerId", "unreadCount", "upToId"], FieldsOf(answer));
        return answer.Deserialize<ReadMarkerBody>(JsonSerializerOptions.Web)!;
    }

    /// <summary>Asserts that <paramref name="call"/> fails with a HubException whose message contains every one of <paramref name="mentioned"/>.</summary>
    public static async Task<HubException> AssertHubErrorAsync(Func<Task> call, params string[] mentioned)
    {
        var error = await Assert.ThrowsAsync<HubException>(call);
        foreach (var text in mentioned)
        {
            Assert.Contains(text, error.Message, StringComparison.OrdinalIgnoreCase);
        }

        return error;
    }

    /// <summary>Asserts an RFC 7807 answer with <paramref name="status"/>; a validation problem names <paramref name="field"/> in its errors.</summary>
    public static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? field = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal((int)status, problem.RootElement.GetProperty("status").GetInt32());
        if (field is not null)
        {
            Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), $"The problem names no error for '{field}': {body}");
        }
    }

    public static async Task AssertProblemAsync(this ChatApp app, TestUser user, string path, HttpStatusCode status, string? field = null)
    {
        using var response = await app.GetAsync(user, path);
        await AssertProblemAsync(response, status, field);
    }

    /// <summary>
    /// A bare hub connection over WebSockets, without <see cref="ChatConnection"/>'s typed <c>ReceiveMessage</c> handler,
    /// so that a test can take events as the JSON they came as (a method's handlers must all take the same types).
    /// </summary>
    public static async Task<HubConnection> ConnectBareAsync(this ChatApp app, TestUser user)
    {
        var hub = new HubConnectionBuilder()
            .WithUrl(
                new Uri(app.BaseAddress, $"/hubs/chat?access_token={Uri.EscapeDataString(user.AccessToken)}"),
                o => o.Transports = HttpTransportType.WebSockets)
            .Build();
        await hub.StartAsync();
        return hub;
    }

    /// <summary>Keeps every <paramref name="method"/> event of a bare connection, as JSON.</summary>
    public static Events<JsonElement> RecordJson(this HubConnection hub, string method)
    {
        var events = new Events<JsonElement>();
        hub.On<JsonElement>(method, events.Add);
        return events;
    }

    /// <summary>The JSON a read answers, as it comes.</summary>
    public static async Task<JsonElement> GetJsonAsync(this ChatApp app, TestUser user, string path)
    {
        using var response = await app.GetAsync(user, path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Every message of <paramref name="user"/>'s sync from the start, page after page of <paramref name="limit"/>.</summary>
    public static async Task<List<ChatMessage>> SyncAllAsync(this ChatApp app, TestUser user, int limit = 100)
    {
        var all = new List<ChatMessage>();
        string? cursor = null;
        for (var page = 0; page < 10_000; page++)
        {
            var answer = await app.SyncAsync(user, cursor, limit);
            all.AddRange(answer.Messages);
            cursor = answer.Cursor;
            if (!answer.HasMore)
            {
                return all;
            }
        }

        throw new InvalidOperationException("Sync never ended.");
    }

    /// <summary>A user signed up with <paramref name="username"/> (not logged in): the id the signup answered.</summary>
    public static async Task<string> SignupNamedAsync(this ChatApp app, string username)
    {
        using var response = await app.SignupAsync(username, $"{username}@example.com", $"pw-{Guid.NewGuid():N}");
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Signup of {username}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    /// <summary>The user logged in again (after a restart, say): a new access token.</summary>
    public static async Task<TestUser> LoginAgainAsync(this ChatApp app, TestUser user)
    {
        using var login = await app.LoginAsync(user.Username, user.Password);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var body = await login.Content.ReadFromJsonAsync<JsonElement>();
        return user with
        {
            AccessToken = body.GetProperty("accessToken").GetString()!,
            RefreshToken = body.GetProperty("refreshToken").GetString()!,
        };
    }

    /// <summary>Sends <paramref name="texts"/> in turn, alternating between the two connections, and returns them as stored.</summary>
    public static async Task<List<ChatMessage>> ConverseAsync(
        (ChatConnection Connection, TestUser User) first, (ChatConnection Connection, TestUser User) second, params string[] texts)
    {
        var sent = new List<ChatMessage>();
        for (var i = 0; i < texts.Length; i++)
        {
            var (from, to) = i % 2 == 0 ? (first, second) : (second, first);
            var receipt = await from.Connection.SendAsync(to.User.Id, texts[i]);
            sent.Add(MessageOf(receipt, from.User.Id, texts[i]));
        }

        return sent;
    }
}

/// <summary>The answer of <c>MarkRead</c>.</summary>
public sealed record ReadMarkerBody(string PeerId, string UpToId, int UnreadCount);

/// <summary>The <c>MessagesRead</c> event.</summary>
public sealed record MessagesReadBody(string ReaderId, string PeerId, string UpToId, DateTimeOffset ReadAt);

/// <summary>
/// An instance of a test's own, with settings of its own: on the collection's MySQL database and Redis, or embedded in
/// a data folder of its own (deleted with it).
/// </summary>
public sealed class OwnInstance : IAsyncDisposable
{
    private readonly string? contentRoot;

    private OwnInstance(ChatApp app, string? contentRoot)
    {
        App = app;
        this.contentRoot = contentRoot;
    }

    public ChatApp App { get; }

    public static OwnInstance On(MySqlRedisChat chat, IDictionary<string, string?>? settings = null) =>
        new(chat.StartInstance(settings), null);

    public static OwnInstance Embedded(IDictionary<string, string?>? settings = null)
    {
        var root = Directory.CreateTempSubdirectory("chat-embedded-").FullName;
        return new(ChatApp.Start(settings ?? new Dictionary<string, string?>(), root), root);
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        if (contentRoot is not null)
        {
            Directory.Delete(contentRoot, recursive: true);
        }
    }
}
