using Microsoft.AspNetCore.SignalR;

namespace Chat.Api.Accounts;

/// <summary>Ties each hub connection to the session of the token that opened it, so ending the session closes it.</summary>
internal sealed class SessionFilter(Sessions sessions) : IHubFilter
{
    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        var session = context.Context.User?.FindFirst(TokenIssuer.SessionClaim)?.Value;
        if (session is not null)
        {
            sessions.Track(session, context.Context);
        }

        try
        {
            await next(context);
        }
        catch when (session is not null)
        {
            // A connection refused here (e.g. over the cap) never reaches OnDisconnected: forget it now.
            sessions.Untrack(session, context.Context);
            throw;
        }
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
