namespace Chat.Domain;

/// <summary>
/// Opaque 32-hex-digit ids that sort by creation time: 48 bits of Unix milliseconds, then a 64-bit counter that
/// makes ids from one process strictly increasing even within a millisecond, then 16 random bits of this process.
/// The counter starts at a random value, so two instances minting ids in the same millisecond do not collide.
/// </summary>
public static class SortableId
{
    private static long counter = Random.Shared.NextInt64(long.MaxValue / 2);
    private static readonly int ProcessSalt = Random.Shared.Next(0x10000);

    public static string New(TimeProvider time)
    {
        var milliseconds = time.GetUtcNow().ToUnixTimeMilliseconds();
        var sequence = Interlocked.Increment(ref counter);
        return $"{milliseconds:x12}{sequence:x16}{ProcessSalt:x4}";
    }
}
