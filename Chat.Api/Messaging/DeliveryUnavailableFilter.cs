using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace Chat.Api.Messaging;

/// <summary>
/// While Redis is unreachable a send cannot be routed to other instances: say so, rather than drop the message
/// silently or report an unexplained server error. The connection stays open, and sends work again once Redis is back.
/// Registered in Redis mode only: in embedded mode there is no Redis to fail, and no filter to pay for on every call.
/// </summary>
internal sealed partial class DeliveryUnavailableFilter(ILogger<DeliveryUnavailableFilter> logger) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(
        HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(invocationContext);
        }
        catch (RedisException ex)
        {
            LogUnavailable(logger, invocationContext.HubMethodName, ex);
            throw new HubException("Message delivery is unavailable right now; nothing was sent. Try again shortly.");
        }
    }

    [LoggerMessage(LogLevel.Warning, "{Method} failed: Redis is unreachable")]
    private static partial void LogUnavailable(ILogger logger, string method, Exception ex);
}
