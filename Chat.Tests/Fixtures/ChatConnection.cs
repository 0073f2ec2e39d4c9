using System.Threading.Channels;
using Chat.Domain.Messaging;
using Microsoft.AspNetCore.SignalR.Client;

namespace Chat.Tests.Fixtures;

/// <summary>A hub connection that keeps what the server sends it.</summary>
public sealed class ChatConnection : IAsyncDisposable
{
    private readonly Channel<ChatMessage> received = Channel.CreateUnbounded<ChatMessage>();
    private readonly TaskCompletionSource<Exception?> closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ChatConnection(HubConnection hub)
    {
        Hub = hub;
        hub.On<ChatMessage>("ReceiveMessage", m => received.Writer.TryWrite(m));
        hub.Closed += error =>
        {
            closed.TrySetResult(error);
            return Task.CompletedTask;
        };
    }

    public HubConnection Hub { get; }

    /// <summary>Completes when the connection closes, with the error the server gave, if any.</summary>
    public Task<Exception?> Closed => closed.Task;

    public Task<SendReceipt> SendRawAsync(object? raw) => Hub.InvokeAsync<SendReceipt>("SendRaw", raw);

    public async Task<ChatMessage> NextMessageAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        return await received.Reader.ReadAsync(cts.Token);
    }

    public ValueTask DisposeAsync() => Hub.DisposeAsync();
}
