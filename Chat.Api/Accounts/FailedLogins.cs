using System.Security.Cryptography;
using System.Text;
using Chat.Api.Platform.RateLimiting;
using Chat.Domain.Users;
using Microsoft.Extensions.Options;

namespace Chat.Api.Accounts;

/// <summary>
/// The failed-login budget of each account (<see cref="FailedLoginOptions"/>): once it is spent, every login to that
/// account is refused, a correct password too, from any address, until the window ends. With Redis the budget is
/// shared by all instances, and while Redis is away each instance keeps its own (<see cref="IRateLimitPartitions"/>).
/// </summary>
/// <remarks>
/// <para>
/// Only wrong passwords may count, yet the check has to come before the password is verified: a locked account must
/// not answer whether a guess was right. A fixed-window limiter counts every call, so it cannot be asked as is. Nor
/// is "peek whether budget remains, verify, then spend a permit on failure" enough: requests that race each other all
/// peek before any of them has spent, so an attacker who sends his guesses at once, from as many addresses as the
/// per-address budget needs, gets far more guesses than the budget, and a right one among them logs in.
/// </para>
/// <para>
/// So each attempt takes a permit before the password is verified, atomically (one Redis script), and gives it back
/// when the password was right: at most the budget's number of verifications run per window, however the requests
/// race, and a correct login neither counts nor resets the budget. The cost is that a correct login holds a permit
/// while its hash is verified (a tenth of a second): only a login racing it for the budget's very last permit can
/// see a 429 that the correct one would not have caused.
/// </para>
/// <para>
/// The budget is the account's, found by its id, so its username and its email spend the same one. A name that
/// names no account has a budget of its own, spent the same way: an unknown name is throttled exactly as a known one
/// is, so the answers never tell whether an account exists. That name is kept only as a SHA-256 (people type their
/// passwords into the name field).
/// </para>
/// </remarks>
public sealed class FailedLogins(IRateLimitPartitions partitions, IOptions<FailedLoginOptions> options, RateLimitMetrics metrics)
{
    /// <summary>The limit's name, which keeps its partitions apart from every other limit's.</summary>
    public const string Limit = "failed-logins";

    /// <summary>
    /// Takes a permit of the budget of <paramref name="user"/>, or of <paramref name="normalizedName"/> when it names
    /// no account. Give it back (<see cref="WindowPermit.ReturnAsync"/>) once the password proved right; keep it when
    /// it was wrong. A refused take means: answer 429 without verifying anything.
    /// </summary>
    public async ValueTask<WindowPermit> TakeAsync(User? user, string normalizedName)
    {
        var budget = options.Value;
        var partition = user is not null
            ? $"user:{user.Id}"
            : $"name:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalizedName)))}";
        var permit = await partitions.TakeReturnableAsync(Limit, partition, budget.PermitLimit, budget.Window);
        if (!permit.IsAcquired)
        {
            metrics.Rejected(RateLimitMetrics.Limiters.FailedLogins);
        }

        return permit;
    }
}
