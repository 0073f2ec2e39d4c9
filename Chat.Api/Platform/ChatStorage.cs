
namespace Chat.Api.Platform;

/// <summary>Where single-instance mode keeps its files (the SQLite database, the Development signing key).</summary>
internal static class ChatStorage
{
    public static string DataDirectory(IHostEnvironment environment) => Path.Combine(environment.ContentRootPath, "App_Data");
}
