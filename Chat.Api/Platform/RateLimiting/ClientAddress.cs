using System.Net;
using System.Net.Sockets;

namespace Chat.Api.Platform.RateLimiting;

/// <summary>Whose budget a client address spends, for the limits kept per client address.</summary>
public static class ClientAddress
{
    /// <summary>
    /// The partition of <paramref name="address"/>: an IPv4 address as itself, also when it arrives IPv4-mapped
    /// (<c>::ffff:a.b.c.d</c>, as dual-stack sockets and proxies give it); an IPv6 address as its /64, the block a
    /// single subscriber is usually given, so that hopping between its addresses gains nothing.
    /// </summary>
    public static string PartitionKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return $"{new IPAddress(bytes)}/64";
    }
}
