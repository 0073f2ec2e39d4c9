using Chat.Api.Accounts;
using Chat.Api.Messaging;
using Chat.Api.Platform;
using Chat.Api.Platform.RateLimiting;
using Chat.Api.Presence;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Chat.Api.Operations;

/// <summary>
/// What operators need: rolling restarts that drain (<see cref="ShutdownOptions"/>, <see cref="StoppingHealthCheck"/>),
/// and what they watch: OpenTelemetry metrics (the framework's meters, the runtime's and Chat's own, named in
/// <see cref="Meters"/>) and traces, served to Prometheus at <c>/metrics</c> (<see cref="MetricsOptions"/>), and sent
/// over OTLP when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
public static class OperationsModule
{
    public const string MetricsPath = "/metrics";

    /// <summary>The meters exported besides the instrumentations': ASP.NET Core's own, SignalR's connections, and Chat's.</summary>
    public static readonly string[] Meters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Http.Connections",
        "Microsoft.AspNetCore.RateLimiting",
        MessagingMetrics.MeterName,
        PresenceMetrics.MeterName,
        AccountsMetrics.MeterName,
        RateLimitMetrics.MeterName,
        RedisMetrics.MeterName,
    ];

    /// <summary>SignalR's server activities: one per hub method invocation (each <c>Send</c>, <c>SendRaw</c>, ...).</summary>
    public const string SignalRServerActivities = "Microsoft.AspNetCore.SignalR.Server";

    public static IHostApplicationBuilder AddOperations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        // Rolling restarts: not ready as soon as the instance stops, then a bounded drain (MessageWriter.StopAsync).
        builder.Services.AddOptions<ShutdownOptions>().BindConfiguration(ShutdownOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<ShutdownOptions>>((host, shutdown) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(shutdown.Value.DrainSeconds));
        builder.Services.AddHealthChecks().AddCheck<StoppingHealthCheck>("stopping", tags: [PlatformModule.ReadyTag]);

        var prometheus = builder.Configuration.GetValue($"{MetricsOptions.Section}:{nameof(MetricsOptions.Prometheus)}", true);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("chat"))
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddRuntimeInstrumentation().AddMeter(Meters);
                if (prometheus)
                {
                    metrics.AddPrometheusExporter();
                }
            });

        // Traces have nowhere to go but OTLP: without it, tracing would only make activities nobody reads.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(o => o.Filter = Traced)
                .AddHttpClientInstrumentation()
                .AddSource(SignalRServerActivities, MessagingMetrics.MeterName));
            telemetry.WithLogging(configureBuilder: null, configureOptions: o => o.IncludeScopes = true);
            telemetry.UseOtlpExporter();

            // Log lines name the trace and span they were written in, through log scopes: off otherwise (appsettings'
            // Logging:CaptureScopes), as SignalR keeps one per hub connection, which costs memory and nobody reads.
            builder.Services.Configure<LoggerFilterOptions>(o => o.CaptureScopes = true);
            builder.Services.Configure<JsonConsoleFormatterOptions>(o => o.IncludeScopes = true);
        }

        return builder;
    }

    /// <summary>
    /// Every HTTP request but the scrapes and the hub's transports: a WebSocket lives as long as its connection, and
    /// SignalR traces each invocation on it instead.
    /// </summary>
    private static bool Traced(HttpContext context) =>
        context.Request.Path != MetricsPath
        && !(context.Request.Path.StartsWithSegments(ChatHub.Path) && !context.Request.Path.Value!.EndsWith("/negotiate", StringComparison.Ordinal));

    /// <summary><c>/metrics</c>, to the allowed networks only (403 to anyone else).</summary>
    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (options.Prometheus)
        {
            app.MapPrometheusScrapingEndpoint(MetricsPath, meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (context, next) =>
            {
                if (options.Allows(context.Connection.RemoteIpAddress))
                {
                    await next(context);
                    return;
                }

                await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Metrics are served to the operators' networks only.")
                    .ExecuteAsync(context);
            }), optionsName: null);
        }

        return app;
    }
}
