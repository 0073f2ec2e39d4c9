namespace Chat.Api.Platform.OpenApi;

public sealed class SwaggerOptions
{
    public const string Section = "Swagger";

    /// <summary>Serve Swagger UI at /swagger and the OpenAPI document at /openapi/v1.json.</summary>
    public bool Enabled { get; set; } = true;
}
