namespace Chat.Domain;

public static class Timestamps
{
    /// <summary>Whole microseconds, as MySQL's datetime(6) keeps them: an answer given at once matches every later read.</summary>
    public static DateTimeOffset ToMicroseconds(DateTimeOffset time) => time.AddTicks(-(time.Ticks % TimeSpan.TicksPerMicrosecond));
}
