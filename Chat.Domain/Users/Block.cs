namespace Chat.Domain.Users;

/// <summary>
/// <see cref="BlockerId"/> accepts nothing from <see cref="BlockedId"/>: no message either way between them, and
/// neither sees the other's presence or typing. History already stored stays readable.
/// </summary>
public sealed class Block
{
    public required string BlockerId { get; init; }

    public required string BlockedId { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}
