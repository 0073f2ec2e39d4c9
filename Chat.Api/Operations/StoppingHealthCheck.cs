using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Chat.Api.Operations;

/// <summary>Not ready from the moment the instance begins to stop, so a load balancer sends it nothing new.</summary>
internal sealed class StoppingHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? new HealthCheckResult(context.Registration.FailureStatus, "The instance is stopping.")
            : HealthCheckResult.Healthy());
}
