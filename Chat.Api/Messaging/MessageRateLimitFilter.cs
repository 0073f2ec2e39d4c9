using System.Globalization;
using System.Threading.RateLimiting;
using Chat.Api.Platform.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Chat.Api.Messaging;

/// <summary>
/// Every hub invocation spends one token of its user's bucket, rejected ones included, before the method runs:
/// <c>SendRaw</c> and <c>Send</c> from the message bucket, every other method from a bucket of its own with the same
/// settings, so that reading receipts cannot starve sending nor flood for free; <c>Typing</c> is throttled instead.
/// Over the limit the call fails and the connection stays open.
/// </summary>
internal sealed class MessageRateLimitFilter : IHubFilter, IDisposable
{
    private readonly PartitionedRateLimiter<string> messages;
    private readonly PartitionedRateLimiter<string> otherCalls;

    private readonly MessagingMetrics metrics;
    private readonly RateLimitMetrics rateLimitMetrics;

    public MessageRateLimitFilter(
        IRateLimitPartitions partitions, IOptions<MessageRateLimitOptions> options, MessagingMetrics metrics, RateLimitMetrics rateLimitMetrics)
    {
        this.metrics = metrics;
        this.rateLimitMetrics = rateLimitMetrics;
        var limit = options.Value;
        messages = PartitionedRateLimiter.Create<string, string>(user =>
            partitions.TokenBucket("messages", user, limit.PermitsPerSecond, limit.Burst));
        otherCalls = PartitionedRateLimiter.Create<string, string>(user =>
            partitions.TokenBucket("hub-calls", user, limit.PermitsPerSecond, limit.Burst));
    }

    public async ValueTask<object?> InvokeMethodAsync(
        HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (invocationContext.HubMethodName == nameof(ChatHub.Typing))
        {
            return await next(invocationContext); // never refused for its rate: its throttle drops the excess instead
        }

        var context = invocationContext.Context;
        var limiter = invocationContext.HubMethodName is nameof(ChatHub.SendRaw) or nameof(ChatHub.Send) ? messages : otherCalls;
        using var lease = await limiter.AcquireAsync(context.UserIdentifier!, cancellationToken: context.ConnectionAborted);
        if (!lease.IsAcquired)
        {
            if (limiter == messages)
            {
                metrics.Rejected(MessagingMetrics.Reasons.RateLimited);
            }

            rateLimitMetrics.Rejected(limiter == messages ? RateLimitMetrics.Limiters.Messages : RateLimitMetrics.Limiters.HubCalls);

            var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
            var seconds = Math.Max(0.1, Math.Ceiling(wait.TotalSeconds * 10) / 10).ToString("0.0", CultureInfo.InvariantCulture);
            throw new HubException($"{(limiter == messages ? "Message" : "Hub call")} rate limit exceeded: try again in {seconds} s.");
        }

        return await next(invocationContext);
    }

    public void Dispose()
    {
        messages.Dispose();
        otherCalls.Dispose();
    }
}
