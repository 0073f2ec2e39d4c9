using System.ComponentModel.DataAnnotations;

namespace Chat.Api.Messaging;

public sealed class ChatHubOptions
{
    public const string Section = "Hub";

    /// <summary>Concurrent hub connections one user may hold, across all instances.</summary>
    [Range(1, 10_000)]
    public int MaxConnectionsPerUser { get; set; } = 20;
}
