using Chat.Domain.Messaging;
using Chat.Tests.Fixtures;

namespace Chat.Tests.Messaging;

/// <summary>A clientMessageId is unique per sender in the database: retries on any instance, even at once, store one message.</summary>
[Collection(MySqlRedisChat.Name)]
public sealed class IdempotencyTests(MySqlRedisChat chat)
{
    [Fact]
    public async Task A_retry_on_another_instance_after_a_lost_acknowledgement_returns_the_first_receipt_and_stores_once()
    {
        await using var second = chat.StartInstance();
        var alice = await chat.App.CreateUserAsync();
        var bob = await chat.App.CreateUserAsync();
        var key = Guid.NewGuid().ToString();
        SendReceipt first;
        await using (var lost = await chat.App.ConnectAsync(alice))
        {
            first = await lost.SendAsync(bob.Id, "hello once", key);
        }

        await using var retrying = await second.ConnectAsync(alice);
        var again = await retrying.SendAsync(bob.Id, "hello once", key);

        Assert.Equal(first, again);
        Assert.Equal(key, again.ClientMessageId);
        var history = await second.HistoryAsync(bob, alice.Id);
        Assert.Equal([first.Id], history.Messages.Select(m => m.Id));
    }

    [Fact]
    public async Task Concurrent_duplicates_on_two_instances_store_one_message_and_deliver_it_once()
    {
        await using var second = chat.StartInstance();
        var alice = await chat.App.CreateUserAsync();
        var bob = await chat.App.CreateUserAsync();
        await using var onFirst = await chat.App.ConnectAsync(alice);
        await using var onSecond = await second.ConnectAsync(alice);
        await using var bobConnection = await second.ConnectAsync(bob);
        var key = Guid.NewGuid().ToString("N");

        var receipts = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            (i % 2 == 0 ? onFirst : onSecond).SendAsync(bob.Id, "only one of me", key)));

        Assert.Single(receipts.Distinct());
        var marker = await onFirst.SendAsync(bob.Id, "after the duplicates");
        Assert.Equal(receipts[0].Id, (await bobConnection.NextMessageAsync()).Id);
        Assert.Equal(marker.Id, (await bobConnection.NextMessageAsync()).Id); // nothing delivered twice in between
        var history = await chat.App.HistoryAsync(alice, bob.Id);
        Assert.Equal([receipts[0].Id, marker.Id], history.Messages.Select(m => m.Id));
    }
}
