using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Chat.Api.Operations;

/// <summary>The Prometheus endpoint: whether it is served, and to whom.</summary>
public sealed class MetricsOptions : IValidatableObject
{
    public const string Section = "Metrics";

    /// <summary><c>GET /metrics</c> in the Prometheus text format.</summary>
    public bool Prometheus { get; set; } = true;

    /// <summary>Who may read the metrics when <see cref="AllowedNetworks"/> names nobody: loopback and the private ranges.</summary>
    public static readonly string[] PrivateNetworks = ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];

    /// <summary>
    /// The networks (CIDR) whose clients may read <c>/metrics</c>, after forwarded headers from a trusted proxy: the
    /// scraper sits beside the service, the public does not read its metrics. Empty means <see cref="PrivateNetworks"/>
    /// (a default here would be kept beside the configured ones: the binder adds to arrays).
    /// </summary>
    public string[] AllowedNetworks { get; set; } = [];

    private string[] Networks => AllowedNetworks.Length > 0 ? AllowedNetworks : PrivateNetworks;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        AllowedNetworks.Where(n => !IPNetwork.TryParse(n, out _))
            .Select(n => new ValidationResult($"'{n}' is not a network in CIDR notation (like 10.0.0.0/8).", [nameof(AllowedNetworks)]));

    /// <summary>Whether a client at <paramref name="address"/> may read the metrics.</summary>
    public bool Allows(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        var ip = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return Networks.Any(n => IPNetwork.Parse(n).Contains(ip));
    }
}
