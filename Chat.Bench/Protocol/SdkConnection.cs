using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Chat.Bench.Protocol;

/// <summary>The official SignalR .NET client, to cross-check what the raw protocol client measures.</summary>
public sealed class SdkConnection : IBenchConnection
{
    private readonly HubConnection hub;

    private SdkConnection(HubConnection hub)
    {
        this.hub = hub;
        hub.On<JsonElement>("ReceiveMessage", m => Received?.Invoke(m.GetProperty("text").GetString()!));
    }

    public Action<string>? Received { get; set; }

    public static async Task<SdkConnection> ConnectAsync(Uri server, string accessToken, CancellationToken cancellationToken)
    {
        var connection = new SdkConnection(new HubConnectionBuilder()
            .WithUrl(new Uri(server, "/hubs/chat"), o =>
            {
                o.Transports = HttpTransportType.WebSockets;
                o.SkipNegotiation = true;
                o.AccessTokenProvider = () => Task.FromResult<string?>(accessToken);
            })
            .Build());
        await connection.hub.StartAsync(cancellationToken);
        return connection;
    }

    public Task SendAsync(string receiverId, string text) => hub.InvokeAsync<JsonElement>("SendRaw", $"{receiverId}:{text}");

    public Task PingAsync() => Task.CompletedTask;

    public ValueTask DisposeAsync() => hub.DisposeAsync();
}
