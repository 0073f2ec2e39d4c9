using System.Diagnostics.Metrics;

namespace Chat.Api.Accounts;

/// <summary>What the sessions tell an operator: refresh tokens used twice, each a stolen token or a client bug.</summary>
public sealed class AccountsMetrics
{
    public const string MeterName = "Chat.Accounts";

    private readonly Counter<long> refreshReuse;

    public AccountsMetrics(IMeterFactory meters) =>
        refreshReuse = meters.Create(MeterName).CreateCounter<long>(
            "chat.auth.refresh_token.reuse", unit: "{detection}", description: "Refresh tokens presented again after their rotation; each ends its session.");

    public void RefreshReuseDetected() => refreshReuse.Add(1);
}
