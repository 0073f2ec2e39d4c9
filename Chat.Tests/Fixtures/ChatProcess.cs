using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Chat.Tests.Fixtures;

/// <summary>
/// A Chat instance in a process of its own (the Chat.Api the tests were built with), configured by environment
/// variables as an operator would: what a SIGKILL can end at any moment, as a crash would, or a SIGTERM stop.
/// </summary>
public sealed partial class ChatProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process process;
    private readonly ConcurrentQueue<string> output;

    private ChatProcess(Process process, ConcurrentQueue<string> output, ChatClient client)
    {
        this.process = process;
        this.output = output;
        Client = client;
    }

    public ChatClient Client { get; }

    /// <summary>Its working directory and content root: without a connection string, its database is App_Data/chat.db there.</summary>
    public string ContentRoot => process.StartInfo.WorkingDirectory;

    /// <summary>The lines the instance wrote to its standard output so far (its console log).</summary>
    public IReadOnlyCollection<string> Output => output;

    /// <summary>Starts an instance on a free loopback port with the test defaults and these settings, ready to serve.</summary>
    public static async Task<ChatProcess> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Chat.Api.dll"), "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Directory.CreateTempSubdirectory("chat-process-").FullName,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in Settings.Merge(ChatApp.Defaults, settings))
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start)!;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is not { } text)
            {
                return;
            }

            output.Enqueue(text);
            if (ListeningOn().Match(text) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        if (await Task.WhenAny(listening.Task, exited, Task.Delay(StartTimeout)) != listening.Task)
        {
            process.Kill();
            throw new InvalidOperationException("Chat.Api did not start listening (exited or timed out).");
        }

        var chat = new ChatProcess(process, output, new ChatClient(new HttpClient { BaseAddress = await listening.Task }));
        await Eventually.TrueAsync(async () => (await chat.Client.Http.GetAsync("/health/ready")).IsSuccessStatusCode, StartTimeout);
        return chat;
    }

    /// <summary>SIGTERM, as an orchestrator stops an instance: returns its exit code, or null if it is still running after <paramref name="within"/>.</summary>
    public async Task<int?> StopAsync(TimeSpan within)
    {
        using (var signal = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await signal.WaitForExitAsync();
        }

        using var deadline = new CancellationTokenSource(within);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>SIGKILL: no shutdown, no flush, nothing more sent.</summary>
    public void Kill()
    {
        process.Kill();
        process.WaitForExit();
    }

    public ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            Kill();
        }

        process.Dispose();
        Client.Http.Dispose();
        return ValueTask.CompletedTask;
    }

    [GeneratedRegex(@"Now listening on: (http://[^\s""]+)")]
    private static partial Regex ListeningOn();
}
