using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.IdentityModel.Tokens;

namespace Chat.Bench.Baseline;

/// <summary>
/// Stock SignalR doing Chat's job and nothing more: a minimal ASP.NET Core app with a plain <see cref="Hub"/> at
/// Chat's path, authenticated with Chat's JWT scheme, and <c>SendRaw</c> answering with Chat's wire shapes, so the
/// load generator drives it exactly as it drives Chat (<c>--target stock</c>). No database, no storage, no rate
/// limit, no presence, no logging, SignalR's own defaults throughout (its <c>DefaultHubLifetimeManager</c>, or with a
/// Redis configuration its stock Redis backplane). Chat measured against it is the price of what Chat adds to SignalR.
/// </summary>
public static class StockHubServer
{
    /// <summary>Chat's hub path, which the load generator's connections use.</summary>
    public const string Path = "/hubs/chat";

    public static async Task RunAsync(string urls, string signingKey, string? redis)
    {
        if (Encoding.UTF8.GetByteCount(signingKey) < 32)
        {
            throw new ArgumentException("the signing key must be at least 32 bytes (UTF-8), as Chat's");
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        builder.Logging.ClearProviders();

        // Chat's bearer scheme (Chat.Api's AccountsModule): HS256 tokens of issuer and audience "chat", type at+jwt,
        // the access_token query parameter accepted on the hub's path. The claim mapping is the stock one: "sub"
        // becomes NameIdentifier, which is what SignalR's default IUserIdProvider routes Clients.User by.
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(o =>
        {
            o.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = "chat",
                ValidAudience = "chat",
                IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)),
                ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                ValidTypes = ["at+jwt"],
                RequireSignedTokens = true,
                RequireExpirationTime = true,
                ClockSkew = TimeSpan.FromSeconds(30),
            };
            o.Events = new JwtBearerEvents
            {
                OnMessageReceived = context =>
                {
                    if (context.HttpContext.Request.Path.StartsWithSegments(Path)
                        && context.Request.Query.TryGetValue("access_token", out var token))
                    {
                        context.Token = token;
                    }

                    return Task.CompletedTask;
                },
            };
        });
        builder.Services.AddAuthorization();

        var signalR = builder.Services.AddSignalR();
        if (redis is not null)
        {
            signalR.AddStackExchangeRedis(redis);
        }

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapHub<StockHub>(Path);
        await app.RunAsync();
    }
}

/// <summary>The stock hub: <c>receiverID:message</c> in, one <c>ReceiveMessage</c> to the receiver, a receipt back.</summary>
[Authorize]
public sealed class StockHub : Hub
{
    /// <summary>Splits at the first ':', sends Chat's message shape to the receiver and returns Chat's receipt shape.</summary>
    public async Task<object> SendRaw(string raw)
    {
        var separator = raw.IndexOf(':', StringComparison.Ordinal);
        if (separator <= 0)
        {
            throw new HubException("SendRaw takes 'receiverId:message'.");
        }

        var receiverId = raw[..separator];
        var id = Guid.CreateVersion7().ToString("N");
        var sentAt = DateTimeOffset.UtcNow;
        await Clients.User(receiverId).SendAsync(
            "ReceiveMessage", new { id, senderId = Context.UserIdentifier, receiverId, text = raw[(separator + 1)..], sentAt });
        return new { id, receiverId, sentAt };
    }
}
