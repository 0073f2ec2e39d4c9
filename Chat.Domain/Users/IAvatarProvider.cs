namespace Chat.Domain.Users;

public interface IAvatarProvider
{
    Task<string> GetAvatarUrlAsync(string email, CancellationToken cancellationToken = default);
}
