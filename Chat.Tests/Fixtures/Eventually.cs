namespace Chat.Tests.Fixtures;

/// <summary>Polls a condition until it holds or a deadline passes: no fixed sleeps.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan? within = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail(because ?? $"The condition did not hold within {within ?? TimeSpan.FromSeconds(10)}.");
            }

            await Task.Delay(50);
        }
    }
}
