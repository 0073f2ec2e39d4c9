using Microsoft.AspNetCore.SignalR;

namespace Chat.Api.Accounts;

/// <summary>Ties each hub connection to the session of the token that opened it, so ending the session closes it.</summary>
internal sealed class SessionFilter(Sessions sessions) : IHubFilter
{
    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        if (context.Context.User?.FindFirst(TokenIssuer.SessionClaim)?.Value is { } session)
        {
            sessions.Track(session, context.Context);
        }

        await next(context);
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        if (context.Context.User?.FindFirst(TokenIssuer.SessionClaim)?.Value is { } session)
        {
            sessions.Untrack(session, context.Context);
        }

        await next(context, exception);
    }
}
