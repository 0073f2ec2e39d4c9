using Microsoft.AspNetCore.SignalR;

namespace Chat.Api.Messaging;

/// <summary>
/// Keeps a connection's sends in the order they arrived although several of them run at once
/// (<see cref="MessagingModule.MaxInvocationsInFlightPerConnection"/>): each send takes a turn when its invocation
/// starts, and is queued to the <see cref="MessageWriter"/> only after the send before it was queued (or failed).
/// So a rate limit that asks Redis, or a receiver looked up in the database, never lets a later send overtake.
/// </summary>
/// <remarks>
/// SignalR starts a connection's invocations one after the other, in the order they arrived, each running until its
/// first await before the next one starts; <see cref="Take"/> runs in that part (<see cref="SendOrderFilter"/>), so it
/// needs no lock.
/// </remarks>
public sealed class SendOrder
{
    private Task last = Task.CompletedTask;

    public static SendOrder Of(HubCallerContext connection)
    {
        if (!connection.Items.TryGetValue(typeof(SendOrder), out var order))
        {
            connection.Items[typeof(SendOrder)] = order = new SendOrder();
        }

        return (SendOrder)order!;
    }

    public SendTurn Take()
    {
        var turn = new SendTurn(last);
        last = turn.Queued;
        return turn;
    }
}

/// <summary>One send's place in its connection's <see cref="SendOrder"/>.</summary>
public sealed class SendTurn(Task previous)
{
    private readonly TaskCompletionSource queued = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the send before this one was queued, or gave up.</summary>
    public Task Previous => previous;

    internal Task Queued => queued.Task;

    /// <summary>This send is queued, or will never be: the next one may go.</summary>
    public void Done() => queued.TrySetResult();
}
