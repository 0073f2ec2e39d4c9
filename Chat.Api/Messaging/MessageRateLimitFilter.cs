using System.Globalization;
using System.Threading.RateLimiting;
using Chat.Api.Platform.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Chat.Api.Messaging;

/// <summary>
/// Every hub invocation spends one token of its user's bucket, rejected ones included, before the method runs.
/// Over the limit the call fails and the connection stays open.
/// </summary>
internal sealed class MessageRateLimitFilter : IHubFilter, IDisposable
{
    public const string Limit = "messages";

    private readonly PartitionedRateLimiter<string> limiter;

    public MessageRateLimitFilter(IRateLimitPartitions partitions, IOptions<MessageRateLimitOptions> options)
    {
        var messages = options.Value;
        limiter = PartitionedRateLimiter.Create<string, string>(user =>
            partitions.TokenBucket(Limit, user, messages.PermitsPerSecond, messages.Burst));
    }

    public async ValueTask<object?> InvokeMethodAsync(
        HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var context = invocationContext.Context;
        using var lease = await limiter.AcquireAsync(context.UserIdentifier!, cancellationToken: context.ConnectionAborted);
        if (!lease.IsAcquired)
        {
            var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
            var seconds = Math.Max(0.1, Math.Ceiling(wait.TotalSeconds * 10) / 10).ToString("0.0", CultureInfo.InvariantCulture);
            throw new HubException($"Message rate limit exceeded: try again in {seconds} s.");
        }

        return await next(invocationContext);
    }

    public void Dispose() => limiter.Dispose();
}
