using Chat.Api.Platform;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Chat.Api.Accounts;

/// <summary>
/// In Development only, a missing signing key is generated once and kept in the app's data folder, so tokens
/// survive restarts of `dotnet run`. Every other environment must be given a key.
/// </summary>
internal sealed class DevelopmentSigningKey(IHostEnvironment environment) : IPostConfigureOptions<JwtOptions>
{
    public void PostConfigure(string? name, JwtOptions options)
    {
        if (!environment.IsDevelopment() || !string.IsNullOrEmpty(options.SigningKey))
        {
            return;
        }

        var path = Path.Combine(ChatStorage.DataDirectory(environment), "jwt-signing-key");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        options.SigningKey = File.ReadAllText(path).Trim();
    }
}
