using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Chat.Tests.Fixtures;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chat.Tests.Platform;

/// <summary>Secrets as files (compose secrets, Kubernetes): a file named as the environment variable is the setting.</summary>
public sealed class SecretFileTests
{
    private const string EnvironmentKey = "a-signing-key-from-the-environment-0123456789";

    [Fact]
    public async Task A_setting_in_a_secret_file_is_used_over_the_environment()
    {
        var secrets = Directory.CreateTempSubdirectory("chat-secrets-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(secrets.FullName, "Jwt__SigningKey"), ChatApp.SigningKey);
            await using var chat = await ChatProcess.StartAsync(new Dictionary<string, string?>
            {
                ["Jwt:SigningKey"] = EnvironmentKey,
                ["Secrets:Directory"] = secrets.FullName,
            });

            var user = await chat.Client.CreateUserAsync();
            var validation = await new JsonWebTokenHandler().ValidateTokenAsync(user.AccessToken, new TokenValidationParameters
            {
                ValidIssuer = "chat",
                ValidAudience = "chat",
                IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(ChatApp.SigningKey)),
            });
            Assert.True(validation.IsValid, $"the access token was not signed with the file's key: {validation.Exception?.Message}");

            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/users/me");
            request.Headers.Authorization = new AuthenticationHeaderValue(
                "Bearer", TestTokens.Signed(user.Id, EnvironmentKey, DateTime.UtcNow.AddMinutes(10)));
            Assert.Equal(HttpStatusCode.Unauthorized, (await chat.Client.Http.SendAsync(request)).StatusCode);
        }
        finally
        {
            secrets.Delete(recursive: true);
        }
    }
}
