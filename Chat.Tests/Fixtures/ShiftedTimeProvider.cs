namespace Chat.Tests.Fixtures;

/// <summary>The system clock moved by a fixed offset; timers still run in real time.</summary>
public sealed class ShiftedTimeProvider(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + offset;
}
