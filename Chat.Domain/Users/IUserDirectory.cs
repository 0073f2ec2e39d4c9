namespace Chat.Domain.Users;

/// <summary>
/// Whether a user id exists, as the database says, answered without a query per message. Users are never deleted,
/// so an id once found stays found.
/// </summary>
public interface IUserDirectory
{
    ValueTask<bool> ContainsAsync(string userId, CancellationToken cancellationToken = default);
}
