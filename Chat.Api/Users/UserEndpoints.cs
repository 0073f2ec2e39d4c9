using System.Security.Claims;
using Chat.Api.OpenApi;
using Chat.Domain.Presence;
using Chat.Infrastructure.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Chat.Api.Users;

public static class UserEndpoints
{
    public static RouteGroupBuilder MapUserEndpoints(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api/users").WithTags("Users").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        users.MapGet("/me", GetMe)
            .WithSummary("The signed-in user's account")
            .WithExamples(response: Examples.Profile);
        users.MapGet("/online", GetOnline)
            .WithSummary("Every user with at least one live hub connection, on any instance")
            .WithExamples(response: new[] { Examples.Summary });
        users.MapGet("/{id}", GetById)
            .WithSummary("Another user's public profile")
            .WithExamples(response: Examples.Summary);

        return users;
    }

    static async Task<Results<Ok<UserProfile>, ProblemHttpResult>> GetMe(
        ClaimsPrincipal principal, ChatDbContext db, CancellationToken cancellationToken)
    {
        var id = principal.FindFirstValue(JwtRegisteredClaimNames.Sub);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        return user is null ? NoSuchUser() : TypedResults.Ok(UserProfile.From(user));
    }

    static async Task<Results<Ok<UserSummary>, ProblemHttpResult>> GetById(
        string id, ChatDbContext db, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking()
            .Where(u => u.Id == id)
            .Select(u => new UserSummary(u.Id, u.Username, u.AvatarUrl))
            .FirstOrDefaultAsync(cancellationToken);
        return user is null ? NoSuchUser() : TypedResults.Ok(user);
    }

    static async Task<Ok<List<UserSummary>>> GetOnline(
        IUserPresence presence, ChatDbContext db, CancellationToken cancellationToken)
    {
        var ids = await presence.GetOnlineUserIdsAsync(cancellationToken);
        if (ids.Count == 0)
        {
            return TypedResults.Ok(new List<UserSummary>());
        }

        // Inlined as IN (...): portable across MariaDB, MySQL and SQLite, unlike a JSON-table parameter.
        var online = await db.Users.AsNoTracking()
            .Where(u => EF.Constant(ids).Contains(u.Id))
            .OrderBy(u => u.Username)
            .Select(u => new UserSummary(u.Id, u.Username, u.AvatarUrl))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(online);
    }

    static ProblemHttpResult NoSuchUser() =>
        TypedResults.Problem(title: "No such user.", statusCode: StatusCodes.Status404NotFound);
}
