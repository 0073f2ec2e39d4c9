using System.Net.Http.Json;
using System.Text.Json;
using Chat.Tests.Fixtures;

namespace Chat.Tests.Cluster;

/// <summary>
/// <c>scripts/cluster.sh metrics</c>: Prometheus (Debian's package) with deploy/prometheus.yml scrapes both instances.
/// Its URL is <c>CHAT_CLUSTER_PROMETHEUS_URL</c>, set by ./test.sh.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class PrometheusTests
{
    private const string UrlVariable = "CHAT_CLUSTER_PROMETHEUS_URL";

    // deploy/prometheus.yml scrapes every 10 s; the first scrape of a target comes within one interval.
    private static readonly TimeSpan Scraped = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task Prometheus_scrapes_both_instances_and_reads_their_metrics()
    {
        var url = Environment.GetEnvironmentVariable(UrlVariable);
        Assert.False(
            string.IsNullOrWhiteSpace(url),
            $"{UrlVariable} is not set: run `scripts/cluster.sh metrics` and set it to the URL it prints, or run ./test.sh.");
        using var prometheus = new HttpClient { BaseAddress = new Uri(url!), Timeout = TimeSpan.FromSeconds(10) };
        async Task<JsonElement[]> QueryAsync(string query) =>
            [.. (await prometheus.GetFromJsonAsync<JsonElement>($"/api/v1/query?query={Uri.EscapeDataString(query)}"))
                .GetProperty("data").GetProperty("result").EnumerateArray()];

        await Eventually.TrueAsync(
            async () => (await QueryAsync("up{job=\"chat\"} == 1")).Length == 2,
            Scraped,
            $"Prometheus did not report both instances up within {Scraped}.");
        await Eventually.TrueAsync(
            async () => (await QueryAsync("kestrel_active_connections")).Select(r => r.GetProperty("metric").GetProperty("instance").GetString()).Distinct().Count() == 2,
            Scraped,
            "Prometheus read no Kestrel metric from one of the instances.");
    }
}
