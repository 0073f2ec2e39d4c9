using Chat.Domain.Messaging;
using Chat.Tests.Fixtures;
using static Chat.Tests.Messaging.MessagingTestKit;

namespace Chat.Tests.Messaging;

/// <summary>"Messages (v2)": a stored message survives a restart of the instance; in embedded mode, its SQLite file.</summary>
[Collection(EmbeddedChat.Name)]
public sealed class EmbeddedRestartTests
{
    [Fact]
    public async Task Stored_messages_markers_and_sync_cursors_survive_a_restart_of_the_embedded_instance()
    {
        var contentRoot = Directory.CreateTempSubdirectory("chat-embedded-").FullName;
        try
        {
            TestUser alice, bob;
            ChatMessage first, second;
            string cursor;
            await using (var before = ChatApp.Start(new Dictionary<string, string?>(), contentRoot))
            {
                alice = await before.CreateUserAsync();
                bob = await before.CreateUserAsync();
                await using var connection = await before.ConnectAsync(alice);
                first = MessageOf(await connection.SendAsync(bob.Id, "before the restart", "restart-1"), alice.Id, "before the restart");
                cursor = (await before.SyncAsync(bob)).Cursor;
                await using var bobConnection = await before.ConnectAsync(bob);
                await bobConnection.MarkReadUpToAsync(alice.Id, first);
                second = MessageOf(await connection.SendAsync(bob.Id, "just before it"), alice.Id, "just before it");
            }

            await using var after = ChatApp.Start(new Dictionary<string, string?>(), contentRoot);
            alice = await after.LoginAgainAsync(alice);
            bob = await after.LoginAgainAsync(bob);

            Assert.Equal([first, second], (await after.HistoryAsync(bob, alice.Id)).Messages);
            Assert.Equal([second], (await after.SyncAsync(bob, cursor)).Messages);
            var conversation = Assert.Single(await after.ConversationsAsync(bob));
            Assert.Equal((first.Id, 1), (conversation.ReadUpTo, conversation.UnreadCount));

            // The idempotency key is remembered too: a retry after the restart stores nothing new.
            await using var aliceConnection = await after.ConnectAsync(alice);
            var retried = await aliceConnection.SendAsync(bob.Id, "before the restart", "restart-1");
            Assert.Equal((first.Id, first.SentAt), (retried.Id, retried.SentAt));
            Assert.Equal([first.Id, second.Id], (await after.SyncAsync(alice)).Messages.Select(m => m.Id));
        }
        finally
        {
            Directory.Delete(contentRoot, recursive: true);
        }
    }
}
