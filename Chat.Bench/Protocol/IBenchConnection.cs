namespace Chat.Bench.Protocol;

/// <summary>One user's connection, to Chat's hub or to the baseline relay, as the scenarios drive it.</summary>
public interface IBenchConnection : IAsyncDisposable
{
    /// <summary>Called with the text of every message this connection receives.</summary>
    Action<string>? Received { get; set; }

    /// <summary>Sends <c>receiverId:text</c>; completes when the server has accepted it (SendRaw's completion, the relay's ack).</summary>
    Task SendAsync(string receiverId, string text);

    /// <summary>Keeps an idle connection alive (SignalR's client timeout is 30 s).</summary>
    Task PingAsync();
}
