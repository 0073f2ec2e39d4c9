using System.Security.Claims;
using Chat.Api.Accounts;
using Chat.Api.Platform.OpenApi;
using Chat.Api.Platform.Persistence;
using Chat.Domain.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Chat.Api.Users;

/// <summary>
/// Blocking. A block lives in the database and the message writer reads it under the message sequence's lock, so a
/// send on any instance after the block answered is refused; presence and typing between the two stop being forwarded.
/// </summary>
public static class BlockEndpoints
{
    public static RouteGroupBuilder MapBlockEndpoints(this IEndpointRouteBuilder app)
    {
        var blocks = app.MapGroup("/api/users").WithTags("Blocking").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        blocks.MapGet("/blocked", ListBlocked)
            .WithSummary("The users you block")
            .WithExamples(response: new[] { UserExamples.Summary });
        blocks.MapPut("/{id}/block", Block)
            .WithSummary("Block a user: no messages either way, no presence or typing; history stays")
            .WithExamples(response: UserExamples.Summary)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        blocks.MapDelete("/{id}/block", Unblock)
            .WithSummary("Unblock a user")
            .WithExamples(response: UserExamples.Summary)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return blocks;
    }

    static async Task<Ok<List<UserSummary>>> ListBlocked(ClaimsPrincipal principal, ChatDbContext db, CancellationToken cancellationToken)
    {
        var me = principal.UserId();
        var blocked = await db.Blocks.AsNoTracking()
            .Where(b => b.BlockerId == me)
            .Join(db.Users, b => b.BlockedId, u => u.Id, (b, u) => new { b.CreatedAt, User = new UserSummary(u.Id, u.Username, u.AvatarUrl) })
            .ToListAsync(cancellationToken);
        // Ordered here: SQLite cannot order by a DateTimeOffset column.
        return TypedResults.Ok(blocked.OrderBy(b => b.CreatedAt).Select(b => b.User).ToList());
    }

    static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Block(
        string id, ClaimsPrincipal principal, ChatDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var me = principal.UserId();
        if (id == me)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["You cannot block yourself."] });
        }

        if (!await db.Users.AnyAsync(u => u.Id == id, cancellationToken))
        {
            return NoSuchUser();
        }

        if (await db.Blocks.AnyAsync(b => b.BlockerId == me && b.BlockedId == id, cancellationToken))
        {
            return TypedResults.NoContent();
        }

        db.Blocks.Add(new Block { BlockerId = me, BlockedId = id, CreatedAt = time.GetUtcNow() });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Blocked twice at once: the other request's row stands; anything else is an error.
            if (!await db.Blocks.AsNoTracking().AnyAsync(b => b.BlockerId == me && b.BlockedId == id, cancellationToken))
            {
                throw;
            }
        }

        return TypedResults.NoContent();
    }

    static async Task<Results<NoContent, ProblemHttpResult>> Unblock(
        string id, ClaimsPrincipal principal, ChatDbContext db, CancellationToken cancellationToken)
    {
        if (!await db.Users.AnyAsync(u => u.Id == id, cancellationToken))
        {
            return NoSuchUser();
        }

        var me = principal.UserId();
        await db.Blocks.Where(b => b.BlockerId == me && b.BlockedId == id).ExecuteDeleteAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    static ProblemHttpResult NoSuchUser() => TypedResults.Problem(title: "No such user.", statusCode: StatusCodes.Status404NotFound);
}
