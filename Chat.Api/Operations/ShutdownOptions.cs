using System.ComponentModel.DataAnnotations;

namespace Chat.Api.Operations;

/// <summary>How a stopping instance drains.</summary>
public sealed class ShutdownOptions
{
    public const string Section = "Shutdown";

    /// <summary>The most a stop may take to commit the sends already accepted and close its connections.</summary>
    [Range(1, 300)]
    public int DrainSeconds { get; set; } = 15;
}
