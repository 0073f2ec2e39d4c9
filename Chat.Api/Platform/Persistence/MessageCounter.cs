namespace Chat.Api.Platform.Persistence;

/// <summary>
/// The one row that numbers stored messages (<see cref="ChatDbContext.BeginBatchAsync"/>): the last number taken.
/// </summary>
public sealed class MessageCounter
{
    /// <summary>The only row's key.</summary>
    public const int OnlyId = 1;

    public int Id { get; init; } = OnlyId;

    public long Last { get; set; }
}
