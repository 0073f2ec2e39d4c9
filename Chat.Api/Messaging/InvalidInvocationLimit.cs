using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Chat.Api.Messaging;

/// <summary>
/// SignalR's JSON protocol, with a budget for invocations that name no hub method or carry the wrong arguments. SignalR
/// answers those itself, before any hub filter runs, so the per-user limits never see them; here each connection may
/// send <see cref="Burst"/> of them, and one more a second after that. A connection that goes beyond is closed with
/// an error saying why (SignalR closes a connection whose protocol throws, and a <see cref="HubException"/>'s message
/// reaches the client).
/// </summary>
internal sealed class InvalidInvocationLimit(IHubProtocol json, TimeProvider time) : IHubProtocol
{
    public const int Burst = 50;
    private static readonly TimeSpan Refill = TimeSpan.FromSeconds(1);

    // The binder is SignalR's per connection: the budget lives and dies with it.
    private readonly ConditionalWeakTable<IInvocationBinder, Budget> budgets = new();

    public string Name => json.Name;

    public int Version => json.Version;

    public TransferFormat TransferFormat => json.TransferFormat;

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
    {
        if (!json.TryParseMessage(ref input, binder, out message))
        {
            return false;
        }

        if (message is InvocationBindingFailureMessage or StreamBindingFailureMessage
            && !budgets.GetValue(binder, _ => new Budget(time.GetTimestamp())).TrySpend(time))
        {
            throw new HubException(
                $"Too many invalid invocations (unknown methods or wrong arguments): at most {Burst}, then one a second.");
        }

        return true;
    }

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => json.WriteMessage(message, output);

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => json.GetMessageBytes(message);

    public bool IsVersionSupported(int version) => json.IsVersionSupported(version);

    /// <summary>A token bucket; one connection parses its messages one at a time, so it needs no lock.</summary>
    private sealed class Budget(long since)
    {
        private double tokens = Burst;

        public bool TrySpend(TimeProvider time)
        {
            var now = time.GetTimestamp();
            tokens = Math.Min(Burst, tokens + time.GetElapsedTime(since, now) / Refill);
            since = now;
            if (tokens < 1)
            {
                return false;
            }

            tokens--;
            return true;
        }
    }
}
