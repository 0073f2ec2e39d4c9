namespace Chat.Api.Platform.Persistence;

/// <summary>What a write that takes a user's turn reads of the user's locked row (<see cref="ChatDbContext.LockUsersAsync"/>).</summary>
public sealed class LockedUser(string id, string username, long messageSequence)
{
    public string Id { get; } = id;

    public string Username { get; } = username;

    /// <summary>The last number of the user's message sequence; a writer takes the next ones and stores the last.</summary>
    public long MessageSequence { get; set; } = messageSequence;
}
