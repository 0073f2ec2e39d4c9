namespace Chat.Tests.Cluster;

/// <summary>nginx's URL in front of the two instances the Cluster tests run against.</summary>
public static class ClusterUrl
{
    private const string Variable = "CHAT_CLUSTER_URL";

    public static Uri Get()
    {
        var url = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(url))
        {
            Assert.Fail(
                $"{Variable} is not set, so there is no cluster to test. Run `scripts/cluster.sh start` and set " +
                $"{Variable} to the URL it prints (e.g. {Variable}=http://127.0.0.1:8080), or run ./test.sh, " +
                "which does both.");
        }

        return new Uri(url);
    }
}
