using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Chat.Tests.Fixtures;

/// <summary>A stand-in for Unsplash's API: a real HTTP server on a loopback port, answering as a test tells it to.</summary>
public sealed class FakeUnsplash : IAsyncDisposable
{
    public const string PhotoUrl = "https://images.unsplash.com/photo-fake?w=400";

    private readonly WebApplication app;

    private FakeUnsplash(WebApplication app) => this.app = app;

    public enum Behaviour
    {
        Photo,
        Unauthorized,
        RateLimited,
        ServerError,
        Slow,
        MalformedJson,

        /// <summary>A photo whose URL is on a host other than images.unsplash.com.</summary>
        PhotoElsewhere,
    }

    public Behaviour Answer { get; set; } = Behaviour.Photo;

    public string BaseUrl => app.Urls.Single();

    public string? LastAuthorization { get; private set; }

    public string? LastAcceptVersion { get; private set; }

    public static async Task<FakeUnsplash> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeUnsplash(app);
        app.MapGet("/photos/random", (Delegate)fake.RandomPhotoAsync);
        await app.StartAsync();
        return fake;
    }

    private async Task<IResult> RandomPhotoAsync(HttpContext context)
    {
        LastAuthorization = context.Request.Headers.Authorization;
        LastAcceptVersion = context.Request.Headers["Accept-Version"];
        switch (Answer)
        {
            case Behaviour.Unauthorized:
                return Results.Json(new { errors = new[] { "OAuth error: The access token is invalid" } }, statusCode: 401);
            case Behaviour.RateLimited:
                context.Response.Headers["X-Ratelimit-Remaining"] = "0";
                return Results.Text("Rate Limit Exceeded", statusCode: 403);
            case Behaviour.ServerError:
                return Results.StatusCode(500);
            case Behaviour.Slow:
                await Task.Delay(TimeSpan.FromSeconds(6), context.RequestAborted);
                return Results.Json(new { urls = new { small = PhotoUrl } });
            case Behaviour.MalformedJson:
                return Results.Text("{\"urls\": {\"small\": ", "application/json");
            case Behaviour.PhotoElsewhere:
                return Results.Json(new { id = "fake", urls = new { small = "https://images.example.com/photo-fake?w=400" } });
            default:
                return Results.Json(new { id = "fake", urls = new { small = PhotoUrl } });
        }
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
