using Chat.Domain.Users;
using Microsoft.Extensions.Options;

namespace Chat.Api.Users;

/// <summary>
/// Profiles and the people lookups (<see cref="UserEndpoints"/>), blocking (<see cref="BlockEndpoints"/>), profile
/// pictures, and the user directory.
/// </summary>
public static class UsersModule
{
    public static IHostApplicationBuilder AddUsers(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<IUserDirectory, UserDirectory>();
        services.AddOptions<UnsplashOptions>().BindConfiguration(UnsplashOptions.Section)
            .Validate(o => o.HasValidBaseUrl, "Unsplash:BaseUrl must be an absolute http(s) URL.").ValidateOnStart();
        services.AddHttpClient<IAvatarProvider, AvatarProvider>((sp, http) =>
                http.BaseAddress = sp.GetRequiredService<IOptions<UnsplashOptions>>().Value.BaseAddress)
            .AddStandardResilienceHandler(o =>
            {
                // Signup waits for the picture: two seconds in all, one retry of a quick failure, then Gravatar.
                o.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(2);
                o.AttemptTimeout.Timeout = TimeSpan.FromSeconds(1);
                o.Retry.MaxRetryAttempts = 1;
                o.Retry.Delay = TimeSpan.FromMilliseconds(100);
            });
        return builder;
    }

    public static IEndpointRouteBuilder MapUsers(this IEndpointRouteBuilder app)
    {
        app.MapUserEndpoints();
        app.MapBlockEndpoints();
        return app;
    }
}
