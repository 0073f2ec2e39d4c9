using System.Globalization;
using System.Security.Claims;
using Chat.Api.Accounts;
using Chat.Api.Platform.RateLimiting;
using Chat.Api.Presence;
using Chat.Api.Platform.OpenApi;
using Chat.Domain.Presence;
using Chat.Domain.Users;
using Chat.Api.Platform.Persistence;
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
            .WithExamples(response: UserExamples.Profile)
            .ProducesProblem(StatusCodes.Status404NotFound);
        users.MapPost("/me/avatar", ChangeAvatar)
            .WithSummary("Pick a new profile picture from Gravatar or from a random Unsplash photo")
            .WithExamples(UserExamples.AvatarChange, UserExamples.Profile)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        users.MapGet("/online", GetOnline)
            .WithSummary("Every user with at least one live hub connection, on any instance")
            .WithExamples(response: new[] { UserExamples.Summary })
            .RequireRateLimiting(ReadRateLimit.Policy)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        users.MapGet("/search", Search)
            .WithSummary("Users whose username starts with q (ignoring case), shortest username first")
            .WithDescription("q: 2-32 characters. limit: 1-20 (default 10). How a conversation starts with someone who is offline.")
            .WithExamples(response: new[] { UserExamples.Summary })
            .RequireRateLimiting(ReadRateLimit.Policy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        users.MapGet("/{id}", GetById)
            .WithSummary("Another user's public profile, whether they are online, and when they were last seen")
            .WithExamples(response: UserExamples.Peer)
            .ProducesProblem(StatusCodes.Status404NotFound);

        return users;
    }

    static async Task<Results<Ok<UserProfile>, ProblemHttpResult>> GetMe(
        ClaimsPrincipal principal, ChatDbContext db, CancellationToken cancellationToken)
    {
        var id = principal.FindFirstValue(JwtRegisteredClaimNames.Sub);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        return user is null ? NoSuchUser() : TypedResults.Ok(UserProfile.From(user));
    }

    static async Task<Results<Ok<UserProfile>, ValidationProblem, ProblemHttpResult>> ChangeAvatar(
        AvatarRequest request, ClaimsPrincipal principal, ChatDbContext db, IAvatarProvider avatars, CancellationToken cancellationToken)
    {
        if (request.Source is not ("gravatar" or "unsplash"))
        {
            return SourceProblem("The source must be \"gravatar\" or \"unsplash\".");
        }

        if (request.Source == "unsplash" && !avatars.UnsplashConfigured)
        {
            return SourceProblem("Unsplash is not configured on this server; use \"gravatar\".");
        }

        var id = principal.FindFirstValue(JwtRegisteredClaimNames.Sub);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return NoSuchUser();
        }

        var url = request.Source == "gravatar"
            ? avatars.GravatarUrl(user.Email)
            : await avatars.RandomUnsplashUrlAsync(cancellationToken);
        if (url is null)
        {
            return TypedResults.Problem(
                title: "Unsplash did not answer; your picture is unchanged. Try again shortly.",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        user.AvatarUrl = url;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(UserProfile.From(user));
    }

    static ValidationProblem SourceProblem(string error) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["source"] = [error] });

    static async Task<Results<Ok<PeerView>, ProblemHttpResult>> GetById(
        string id, ClaimsPrincipal principal, ChatDbContext db, IUserPresence presence, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return NoSuchUser();
        }

        var me = principal.UserId();
        if (await db.Blocks.AnyAsync(b => (b.BlockerId == me && b.BlockedId == id) || (b.BlockerId == id && b.BlockedId == me), cancellationToken))
        {
            return TypedResults.Ok(PeerView.WithoutPresence(user));
        }

        var online = (await presence.WhichOnlineAsync([id], cancellationToken)).Contains(id);
        return TypedResults.Ok(PeerView.From(user, online));
    }

    /// <summary>Everyone online but the users in a block with the caller.</summary>
    static async Task<Ok<List<UserSummary>>> GetOnline(
        ClaimsPrincipal principal, OnlineUsers onlineUsers, ChatDbContext db, CancellationToken cancellationToken)
    {
        var online = await onlineUsers.GetAsync(cancellationToken);
        var hidden = await db.BlockedEitherWayAsync(principal.UserId(), cancellationToken);
        return TypedResults.Ok(online.Where(u => !hidden.Contains(u.Id)).ToList());
    }

    static async Task<Results<Ok<List<UserSummary>>, ValidationProblem>> Search(
        string? q, string? limit, ChatDbContext db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (q is not { Length: >= 2 and <= AccountRules.UsernameMaxLength })
        {
            errors["q"] = [$"q must be 2 to {AccountRules.UsernameMaxLength} characters long."];
        }

        var count = 10;
        if (limit is not null && !(int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count is >= 1 and <= 20))
        {
            errors["limit"] = ["limit must be a whole number from 1 to 20."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        // A prefix of the upper-cased, uniquely indexed name: a range of that index.
        // Upper-cased as NormalizedUsername is, but not trimmed: no username holds a space, so neither does a match.
        var prefix = q!.ToUpperInvariant();
        var found = await db.Users.AsNoTracking()
            .Where(u => u.NormalizedUsername.StartsWith(prefix))
            .OrderBy(u => u.NormalizedUsername.Length).ThenBy(u => u.NormalizedUsername)
            .Take(count)
            .Select(u => new UserSummary(u.Id, u.Username, u.AvatarUrl))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(found);
    }

    static ProblemHttpResult NoSuchUser() =>
        TypedResults.Problem(title: "No such user.", statusCode: StatusCodes.Status404NotFound);
}
