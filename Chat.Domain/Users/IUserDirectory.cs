namespace Chat.Domain.Users;

/// <summary>
/// Which user ids exist, answered without a database query per message. Users are never deleted, so an id once
/// known stays known.
/// </summary>
public interface IUserDirectory
{
    ValueTask<bool> ContainsAsync(string userId, CancellationToken cancellationToken = default);

    Task AddAsync(string userId, CancellationToken cancellationToken = default);
}
