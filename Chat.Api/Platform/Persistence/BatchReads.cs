namespace Chat.Api.Platform.Persistence;

/// <summary>What a batch of messages read under the sequence's lock (<see cref="ChatDbContext.BeginBatchAsync"/>).</summary>
/// <param name="Sequence">The last number taken: the batch's messages take the next ones.</param>
public sealed record BatchReads(long Sequence)
{
    /// <summary>The blocks the batch's users made.</summary>
    public HashSet<(string Blocker, string Blocked)> Blocks { get; } = [];

    /// <summary>The ids of the stored messages that the batch's keyed sends repeat.</summary>
    public Dictionary<(string Sender, string ClientMessageId), string> Repeats { get; } = [];

    /// <summary>Which of the conversations asked about hold a message already.</summary>
    public HashSet<(string User, string Peer)> Started { get; } = [];
}
