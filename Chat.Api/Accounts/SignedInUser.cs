using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Chat.Api.Accounts;

public static class SignedInUser
{
    /// <summary>The user id of an authenticated request: the access token's <c>sub</c>, as SignalR routes by it.</summary>
    public static string UserId(this ClaimsPrincipal principal) =>
        principal.FindFirstValue(JwtRegisteredClaimNames.Sub) ?? throw new InvalidOperationException("The request is not authenticated.");
}
