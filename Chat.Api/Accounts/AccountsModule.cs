using System.Security.Claims;
using Chat.Api.Messaging;
using Chat.Api.Platform;
using Chat.Api.Platform.RateLimiting;
using Chat.Domain.Auth;
using Chat.Domain.Users;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chat.Api.Accounts;

/// <summary>
/// Signup, login, refresh and logout (<see cref="AuthEndpoints"/>): passwords, token issuing, the refresh-token
/// store (Redis or in-process), the JWT bearer scheme every other feature authenticates with, the auth budget per
/// client address and the failed-login budget per account.
/// </summary>
public static class AccountsModule
{
    /// <summary>The rate-limit policy of signup, login and refresh: one budget per client address.</summary>
    public const string AuthRateLimit = "auth";

    public static IHostApplicationBuilder AddAccounts(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<JwtOptions>().BindConfiguration(JwtOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<JwtOptions>, JwtOptionsValidator>();
        services.AddSingleton<IPostConfigureOptions<JwtOptions>, DevelopmentSigningKey>();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<JwtOptions>>((bearer, jwt) => ConfigureBearer(bearer, jwt.Value));
        services.AddAuthorization();

        services.Configure<PasswordHasherOptions>(o => o.IterationCount = Passwords.IterationCount);
        services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        services.AddSingleton<Passwords>();
        services.AddSingleton<TokenIssuer>();
        services.AddSingleton<AccountsMetrics>();
        services.AddSingleton<Sessions>();
        services.AddHostedService(sp => sp.GetRequiredService<Sessions>());
        services.AddSingleton<SessionFilter>();
        if (builder.UsesRedis())
        {
            services.AddSingleton<IRefreshTokenStore, RedisRefreshTokenStore>();
        }
        else
        {
            services.AddSingleton<IRefreshTokenStore, InProcessRefreshTokenStore>();
        }

        services.AddOptions<AuthRateLimitOptions>().BindConfiguration(AuthRateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // The client address is the peer's, or X-Forwarded-For's when the peer is a trusted proxy (UsePlatform); an
        // IPv6 client spends its /64's budget.
        services.AddRateLimiter(o => o.AddPolicy(AuthRateLimit, context =>
        {
            var options = context.RequestServices.GetRequiredService<IOptions<AuthRateLimitOptions>>().Value;
            return context.RequestServices.GetRequiredService<IRateLimitPartitions>().FixedWindow(
                AuthRateLimit, ClientAddress.PartitionKey(context.Connection.RemoteIpAddress), options.PermitLimit, options.Window);
        }));
        services.AddOptions<FailedLoginOptions>().BindConfiguration(FailedLoginOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<FailedLogins>();
        return builder;
    }

    public static IEndpointRouteBuilder MapAccounts(this IEndpointRouteBuilder app)
    {
        app.MapAuthEndpoints();
        return app;
    }

    private static void ConfigureBearer(JwtBearerOptions bearer, JwtOptions jwt)
    {
        bearer.MapInboundClaims = false; // keep "sub" as "sub"
        bearer.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = jwt.Issuer,
            ValidAudience = jwt.Audience,
            IssuerSigningKey = jwt.CreateSigningKey(),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ValidTypes = [TokenIssuer.AccessTokenType],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            NameClaimType = JwtRegisteredClaimNames.Name,
        };
        bearer.Events = new JwtBearerEvents
        {
            // Browsers cannot set headers on WebSockets or SSE, so the hub, and only the hub, reads the query string.
            OnMessageReceived = context =>
            {
                if (context.HttpContext.Request.Path.StartsWithSegments(ChatHub.Path)
                    && context.Request.Query.TryGetValue("access_token", out var token))
                {
                    context.Token = token;
                }

                return Task.CompletedTask;
            },
            // A token of an ended session is refused. Chat's own tokens always name their session; one minted
            // without it by a holder of the signing key (the benchmark) is tied to none.
            // A hub connection keeps its principal for as long as it lives. Keep only what Chat reads (the user id,
            // name and session), not every claim of the token nor the parsed token itself: about 3 KB less per connection.
            OnTokenValidated = async context =>
            {
                var principal = context.Principal!;
                if (principal.FindFirst(TokenIssuer.SessionClaim)?.Value is { } session
                    && !await context.HttpContext.RequestServices.GetRequiredService<Sessions>().IsLiveAsync(session, context.HttpContext.RequestAborted))
                {
                    context.Fail("The session has ended.");
                    return;
                }

                context.Principal = new ClaimsPrincipal(new ClaimsIdentity(
                    principal.Claims.Where(c => c.Type is JwtRegisteredClaimNames.Sub or JwtRegisteredClaimNames.Name or TokenIssuer.SessionClaim)
                        .Select(c => new Claim(c.Type, c.Value)),
                    context.Scheme.Name,
                    JwtRegisteredClaimNames.Name,
                    roleType: null));
            },
        };
    }
}
