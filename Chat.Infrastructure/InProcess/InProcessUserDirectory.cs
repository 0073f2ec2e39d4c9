using System.Collections.Concurrent;
using Chat.Domain.Users;
using Chat.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Chat.Infrastructure.InProcess;

/// <summary>Single-instance mode: every user id in memory, loaded once at start and added to at signup.</summary>
internal sealed class InProcessUserDirectory(IServiceScopeFactory scopes) : IUserDirectory, IHostedService
{
    private readonly ConcurrentDictionary<string, byte> ids = new(StringComparer.Ordinal);

    public ValueTask<bool> ContainsAsync(string userId, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(ids.ContainsKey(userId));

    public Task AddAsync(string userId, CancellationToken cancellationToken = default)
    {
        ids.TryAdd(userId, 0);
        return Task.CompletedTask;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        await foreach (var id in db.Users.AsNoTracking().Select(u => u.Id).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            ids.TryAdd(id, 0);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
