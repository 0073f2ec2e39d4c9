using Chat.Domain;

namespace Chat.Tests.Domain;

public sealed class SortableIdTests
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void Ids_minted_in_one_millisecond_still_sort_in_minting_order()
    {
        var time = new FixedTime(DateTimeOffset.UnixEpoch.AddYears(56));
        var ids = Enumerable.Range(0, 1000).Select(_ => SortableId.New(time)).ToList();
        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void A_later_millisecond_sorts_after_an_earlier_one()
    {
        var time = new FixedTime(DateTimeOffset.UnixEpoch.AddYears(56));
        var first = SortableId.New(time);
        time.Now = time.Now.AddMilliseconds(1);
        Assert.True(string.CompareOrdinal(first, SortableId.New(time)) < 0);
        Assert.Equal(32, first.Length);
    }
}
