using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Chat.Api.Platform.Persistence;

internal sealed class DatabaseHealthCheck(ChatDbContext db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await db.Database.CanConnectAsync(cancellationToken)
                ? HealthCheckResult.Healthy()
                : new HealthCheckResult(context.Registration.FailureStatus, "The database does not answer.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The database does not answer.", ex);
        }
    }
}
