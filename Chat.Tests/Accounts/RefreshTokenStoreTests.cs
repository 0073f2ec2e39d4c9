using Chat.Domain.Auth;
using Chat.Api.Accounts;
using Chat.Tests.Fixtures;
using StackExchange.Redis;

namespace Chat.Tests.Accounts;

/// <summary>One behaviour for both refresh-token stores: the Redis one and the single-instance one.</summary>
public abstract class RefreshTokenStoreTests
{
    protected abstract Task<IRefreshTokenStore> CreateStoreAsync();

    private static string NewHash() => Guid.NewGuid().ToString("N");

    private static RefreshTokenEntry NewFamily(TimeSpan? lifetime = null) =>
        new($"user-{Guid.NewGuid():N}", $"family-{Guid.NewGuid():N}", DateTimeOffset.UtcNow + (lifetime ?? TimeSpan.FromDays(1)));

    [Fact]
    public async Task A_live_token_rotates_once_and_its_replacement_is_live()
    {
        var store = await CreateStoreAsync();
        var family = NewFamily();
        var (first, second, third) = (NewHash(), NewHash(), NewHash());
        await store.StoreAsync(first, family, maxSessions: 10);

        var rotated = await store.RotateAsync(first, second);
        var again = await store.RotateAsync(second, third);

        Assert.Equal(RotationOutcome.Rotated, rotated.Outcome);
        Assert.Equal(family.UserId, rotated.Entry!.UserId);
        Assert.Equal(family.FamilyId, rotated.Entry.FamilyId);
        Assert.Equal(RotationOutcome.Rotated, again.Outcome);
    }

    [Fact]
    public async Task Rotation_does_not_extend_the_family_lifetime()
    {
        var store = await CreateStoreAsync();
        var family = NewFamily();
        var (first, second, third) = (NewHash(), NewHash(), NewHash());
        await store.StoreAsync(first, family, maxSessions: 10);
        await store.RotateAsync(first, second);

        var result = await store.RotateAsync(second, third);

        Assert.Equal(family.FamilyExpiresAt.ToUnixTimeMilliseconds(), result.Entry!.FamilyExpiresAt.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task Reusing_a_consumed_token_revokes_the_whole_family()
    {
        var store = await CreateStoreAsync();
        var (first, second, third) = (NewHash(), NewHash(), NewHash());
        await store.StoreAsync(first, NewFamily(), maxSessions: 10);
        await store.RotateAsync(first, second);

        var reuse = await store.RotateAsync(first, NewHash());
        var replacement = await store.RotateAsync(second, third);

        Assert.Equal(RotationOutcome.ReuseDetected, reuse.Outcome);
        Assert.Equal(RotationOutcome.Rejected, replacement.Outcome);
    }

    [Fact]
    public async Task Revoking_a_family_rejects_every_token_of_it_and_no_other()
    {
        var store = await CreateStoreAsync();
        var (first, second, other) = (NewHash(), NewHash(), NewHash());
        await store.StoreAsync(first, NewFamily(), maxSessions: 10);
        await store.StoreAsync(other, NewFamily(), maxSessions: 10);
        await store.RotateAsync(first, second);

        await store.RevokeFamilyAsync(first);

        Assert.Equal(RotationOutcome.Rejected, (await store.RotateAsync(second, NewHash())).Outcome);
        Assert.Equal(RotationOutcome.Rotated, (await store.RotateAsync(other, NewHash())).Outcome);
        await store.RevokeFamilyAsync(NewHash()); // unknown tokens are ignored
    }

    [Fact]
    public async Task Of_twenty_concurrent_rotations_of_one_token_exactly_one_wins()
    {
        var store = await CreateStoreAsync();
        var token = NewHash();
        await store.StoreAsync(token, NewFamily(), maxSessions: 10);

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => store.RotateAsync(token, NewHash()))));

        Assert.Single(results, r => r.Outcome == RotationOutcome.Rotated);
    }

    [Fact]
    public async Task An_expired_family_is_rejected()
    {
        var store = await CreateStoreAsync();
        var token = NewHash();
        await store.StoreAsync(token, NewFamily(TimeSpan.FromMilliseconds(300)), maxSessions: 10);

        await Eventually.TrueAsync(async () => (await store.RotateAsync(token, NewHash())) is { Outcome: RotationOutcome.Rejected });
    }

    [Fact]
    public async Task An_unknown_token_is_rejected() =>
        Assert.Equal(RotationOutcome.Rejected, (await (await CreateStoreAsync()).RotateAsync(NewHash(), NewHash())).Outcome);
}

public sealed class RedisRefreshTokenStoreTests : RefreshTokenStoreTests, IAsyncLifetime
{
    private ConnectionMultiplexer redis = null!;

    public async Task InitializeAsync() => redis = await ConnectionMultiplexer.ConnectAsync((await TestServers.GetAsync()).Redis);

    public Task DisposeAsync() => redis.DisposeAsync().AsTask();

    protected override Task<IRefreshTokenStore> CreateStoreAsync() => Task.FromResult<IRefreshTokenStore>(new RedisRefreshTokenStore(redis));
}

public sealed class InProcessRefreshTokenStoreTests : RefreshTokenStoreTests
{
    protected override Task<IRefreshTokenStore> CreateStoreAsync() =>
        Task.FromResult<IRefreshTokenStore>(new InProcessRefreshTokenStore(TimeProvider.System));
}
