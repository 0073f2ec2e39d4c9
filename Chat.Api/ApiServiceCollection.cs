using Chat.Api.Hubs;
using System.Net;
using System.Security.Claims;
using Chat.Api.OpenApi;
using Chat.Api.RateLimiting;
using Chat.Infrastructure.Auth;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

public static class ApiServiceCollection
{
    /// <summary>Room for a 4096-character message even when every character is JSON-escaped, plus the envelope.</summary>
    public const long MaximumHubMessageBytes = 32 * 1024;

    public static IHostApplicationBuilder AddChatApi(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;

        // Request-start lines carry the full URL, and WebSocket clients put their access token in the query string.
        // Off entirely (it logs nothing above Information but startup failures, which also end the process with
        // their error): while this category is enabled, hosting gives every request an Activity, which a hub
        // connection keeps for as long as it lives.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);

        services.AddProblemDetails();
        // Development rethrows malformed request bodies: the client's error there too, not a 500. A Redis outage is
        // the service being briefly unavailable, not a bug.
        services.AddExceptionHandler(o => o.StatusCodeSelector = ex => ex switch
        {
            BadHttpRequestException bad => bad.StatusCode,
            RedisException => StatusCodes.Status503ServiceUnavailable,
            _ => StatusCodes.Status500InternalServerError,
        });
        services.AddOptions<SwaggerOptions>().BindConfiguration(SwaggerOptions.Section);
        services.AddOpenApi(o => o.AddBearerSecurity());

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<JwtOptions>>((bearer, jwt) => ConfigureBearer(bearer, jwt.Value));
        services.AddAuthorization();

        services.AddRateLimiter(o => o.AddChatPolicies());
        services.Configure<ForwardedHeadersOptions>(o => ConfigureForwardedHeaders(o, builder.Configuration));

        services.AddOptions<ChatHubOptions>().BindConfiguration(ChatHubOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<MessageRateLimitFilter>();
        services.AddSignalR(o =>
        {
            o.MaximumReceiveMessageSize = MaximumHubMessageBytes;
            o.EnableDetailedErrors = builder.Environment.IsDevelopment();
            o.AddFilter<MessageRateLimitFilter>();
        });
        services.AddSingleton<IUserIdProvider, SubjectUserIdProvider>();
        return builder;
    }

    /// <summary>
    /// X-Forwarded-For is believed only from a trusted proxy: by default a proxy on this host (loopback); with
    /// <c>ForwardedHeaders:KnownProxies</c> set, exactly the addresses listed there.
    /// </summary>
    private static void ConfigureForwardedHeaders(ForwardedHeadersOptions options, IConfiguration configuration)
    {
        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        var proxies = configuration.GetSection("ForwardedHeaders:KnownProxies").Get<string[]>();
        if (proxies is { Length: > 0 })
        {
            options.KnownIPNetworks.Clear();
            options.KnownProxies.Clear();
            foreach (var proxy in proxies)
            {
                options.KnownProxies.Add(IPAddress.Parse(proxy));
            }
        }
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
            // A hub connection keeps its principal for as long as it lives. Keep only what Chat reads (the user id
            // and name), not every claim of the token nor the parsed token itself: about 3 KB less per connection.
            OnTokenValidated = context =>
            {
                var principal = context.Principal!;
                context.Principal = new ClaimsPrincipal(new ClaimsIdentity(
                    principal.Claims.Where(c => c.Type is JwtRegisteredClaimNames.Sub or JwtRegisteredClaimNames.Name)
                        .Select(c => new Claim(c.Type, c.Value)),
                    context.Scheme.Name,
                    JwtRegisteredClaimNames.Name,
                    roleType: null));
                return Task.CompletedTask;
            },
        };
    }

    public static WebApplication UseChatPipeline(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        // The browser client (wwwroot): index.html at "/".
        app.UseDefaultFiles();
        app.UseStaticFiles();

        if (app.Services.GetRequiredService<IOptions<SwaggerOptions>>().Value.Enabled)
        {
            app.MapOpenApi();
            app.UseSwaggerUI(o => o.SwaggerEndpoint("/openapi/v1.json", "Chat v1"));
        }

        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    // A connection ends when its access token does, so a revoked user is out within one access-token lifetime.
    public static HubEndpointConventionBuilder MapChatHub(this IEndpointRouteBuilder app) =>
        app.MapHub<ChatHub>(ChatHub.Path, o => o.CloseOnAuthenticationExpiration = true);

    public static IEndpointRouteBuilder MapChatHealthChecks(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(InfrastructureServiceCollection.ReadyTag),
        });
        return app;
    }
}
