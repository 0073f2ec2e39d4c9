using System.Diagnostics.Metrics;
using StackExchange.Redis;

namespace Chat.Api.Platform;

/// <summary>
/// The one Redis connection's health, which the backplane, presence and the shared limits ride on: whether it is
/// connected, and how often it failed (by StackExchange.Redis's failure type).
/// </summary>
public sealed class RedisMetrics(IMeterFactory meters)
{
    public const string MeterName = "Chat.Redis";

    private readonly Meter meter = meters.Create(MeterName);

    public void Watch(IConnectionMultiplexer connection)
    {
        var failures = meter.CreateCounter<long>(
            "chat.redis.connection.failures", unit: "{failure}", description: "Redis connections that failed, by kind (chat.redis.failure).");
        meter.CreateObservableGauge(
            "chat.redis.connected", () => connection.IsConnected ? 1 : 0, unit: "{connection}", description: "1 while Redis is connected, else 0.");
        connection.ConnectionFailed += (_, failed) =>
            failures.Add(1, new KeyValuePair<string, object?>("chat.redis.failure", failed.FailureType.ToString()));
    }
}
