using Microsoft.AspNetCore.SignalR;

namespace Chat.Api.Messaging;

/// <summary>
/// Gives each <c>SendRaw</c> and <c>Send</c> its turn in the connection's <see cref="SendOrder"/> before anything
/// that may wait (the rate limit, the receiver's lookup) runs, and hands it to the hub.
/// </summary>
internal sealed class SendOrderFilter : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(
        HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (invocationContext.Hub is not ChatHub hub || invocationContext.HubMethodName is not (nameof(ChatHub.SendRaw) or nameof(ChatHub.Send)))
        {
            return await next(invocationContext);
        }

        var turn = SendOrder.Of(invocationContext.Context).Take();
        hub.Turn = turn;
        try
        {
            return await next(invocationContext);
        }
        finally
        {
            turn.Done(); // a send refused before it was queued must not hold the next one back
        }
    }
}
