using Chat.Api.Platform.OpenApi;
using Chat.Api.Platform.RateLimiting;
using Chat.Domain;
using Chat.Domain.Users;
using System.Security.Claims;
using Chat.Api.Users;
using Chat.Api.Platform.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Chat.Api.Accounts;

public static class AuthEndpoints
{
    public static RouteGroupBuilder MapAuthEndpoints(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/auth").WithTags("Auth");
        // Logout is outside the budget: revoking a session must always be possible.
        var limited = auth.MapGroup("").RequireRateLimiting(AccountsModule.AuthRateLimit)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        limited.MapPost("/signup", Signup)
            .WithSummary("Create an account")
            .WithExamples(AuthExamples.Signup, UserExamples.Profile)
            .ProducesProblem(StatusCodes.Status409Conflict);
        limited.MapPost("/login", Login)
            .WithSummary("Exchange a username (or email) and password for an access and a refresh token")
            .WithExamples(AuthExamples.Login, AuthExamples.Tokens)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        limited.MapPost("/refresh", Refresh)
            .WithSummary("Exchange a refresh token for new tokens; the refresh token is consumed")
            .WithDescription("A refresh token works once. Presenting a consumed one revokes its whole family, " +
                "including the token that replaced it.")
            .WithExamples(AuthExamples.Refresh, AuthExamples.Tokens)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        auth.MapPost("/logout", Logout)
            .WithSummary("End the refresh token's session: its tokens are refused and its hub connections close")
            .WithExamples(AuthExamples.Refresh);
        auth.MapPost("/logout-all", LogoutEverywhere)
            .WithSummary("End every session of the signed-in user, on every device")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        return auth;
    }

    static async Task<Results<Created<UserProfile>, ValidationProblem, ProblemHttpResult>> Signup(
        SignupRequest request,
        ChatDbContext db,
        Passwords passwords,
        IAvatarProvider avatars,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var errors = AccountRules.ValidateSignup(request.Username, request.Email, request.Password);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var user = User.Create(SortableId.New(time), request.Username!, request.Email!, time.GetUtcNow());

        // Checked first only to spare the hashing; the unique indexes decide races below.
        if (await FindConflictAsync(db, user, cancellationToken) is { } taken)
        {
            return taken;
        }

        user.PasswordHash = passwords.Hash(user, request.Password!);
        // Unsplash never blocks a signup: any failure of it means Gravatar.
        user.AvatarUrl = await avatars.RandomUnsplashUrlAsync(cancellationToken) ?? avatars.GravatarUrl(user.Email);
        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            var conflict = await FindConflictAsync(db, user, cancellationToken);
            if (conflict is null)
            {
                throw;
            }

            return conflict;
        }

        return TypedResults.Created($"/api/users/{user.Id}", UserProfile.From(user));
    }

    static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> Login(
        LoginRequest request,
        ChatDbContext db,
        Passwords passwords,
        FailedLogins failedLogins,
        TokenIssuer tokens,
        HttpResponse response,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (AccountRules.LoginError(request.Username) is { } loginError)
        {
            errors["username"] = [loginError];
        }

        // Longer than any password we accept: rejected before any hashing work.
        if (request.Password is not { Length: > 0 and <= AccountRules.PasswordMaxLength })
        {
            errors["password"] = [AccountRules.PasswordError(request.Password) ?? "Password is required."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var name = User.Normalize(request.Username!);
        var user = await db.Users.FirstOrDefaultAsync(u => u.NormalizedUsername == name || u.NormalizedEmail == name, cancellationToken);

        // Taken before the password is verified and given back only when it is right (FailedLogins says why).
        var attempt = await failedLogins.TakeAsync(user, name);
        if (!attempt.IsAcquired)
        {
            return RateLimitRejection.TooManyRequests(response, attempt.RetryAfter, "Too many failed logins for this account.");
        }

        var verified = passwords.Verify(user, request.Password!);
        if (verified == PasswordVerificationResult.Failed)
        {
            return TypedResults.Problem(
                title: "Invalid username or password.",
                statusCode: StatusCodes.Status401Unauthorized);
        }

        await attempt.ReturnAsync();

        if (verified == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user!.PasswordHash = passwords.Hash(user, request.Password!);
            await db.SaveChangesAsync(cancellationToken);
        }

        var issued = await tokens.IssueAsync(user!, cancellationToken);
        return TypedResults.Ok(TokenResponse.From(issued, user!));
    }

    static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> Refresh(
        RefreshRequest request,
        ChatDbContext db,
        TokenIssuer tokens,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.RefreshToken))
        {
            return RefreshTokenRequired();
        }

        return await tokens.RefreshAsync(request.RefreshToken, db, cancellationToken) switch
        {
            RefreshResult.Refreshed refreshed => TypedResults.Ok(TokenResponse.From(refreshed.Tokens, refreshed.User)),
            _ => TypedResults.Problem(title: "The refresh token is invalid, expired or revoked.", statusCode: StatusCodes.Status401Unauthorized),
        };
    }

    // The refresh token is the credential: no bearer token is needed, and an unknown token is no error.
    static async Task<Results<NoContent, ValidationProblem>> Logout(
        RefreshRequest request,
        TokenIssuer tokens,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.RefreshToken))
        {
            return RefreshTokenRequired();
        }

        await tokens.RevokeAsync(request.RefreshToken, cancellationToken);
        return TypedResults.NoContent();
    }

    static async Task<NoContent> LogoutEverywhere(ClaimsPrincipal principal, TokenIssuer tokens, CancellationToken cancellationToken)
    {
        await tokens.RevokeAllAsync(principal.UserId(), cancellationToken);
        return TypedResults.NoContent();
    }

    static ValidationProblem RefreshTokenRequired() =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["refreshToken"] = ["The refresh token is required."] });

    static async Task<ProblemHttpResult?> FindConflictAsync(ChatDbContext db, User user, CancellationToken cancellationToken)
    {
        var taken = await db.Users
            .Where(u => u.NormalizedUsername == user.NormalizedUsername || u.NormalizedEmail == user.NormalizedEmail)
            .Select(u => new { u.NormalizedUsername, u.NormalizedEmail })
            .FirstOrDefaultAsync(cancellationToken);
        if (taken is null)
        {
            return null;
        }

        var field = taken.NormalizedUsername == user.NormalizedUsername ? "username" : "email";
        return TypedResults.Problem(
            title: $"That {field} is already taken.",
            statusCode: StatusCodes.Status409Conflict,
            extensions: new Dictionary<string, object?> { ["field"] = field });
    }
}
