using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Chat.Api.Platform.OpenApi;

internal static class OpenApiExtensions
{
    public const string BearerScheme = "Bearer";

    /// <summary>Shows <paramref name="request"/> as the JSON body example and <paramref name="response"/> as the success example.</summary>
    public static RouteHandlerBuilder WithExamples(this RouteHandlerBuilder builder, object? request = null, object? response = null) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (request is not null && operation.RequestBody?.Content?.TryGetValue("application/json", out var body) == true)
            {
                body.Example = JsonSerializer.SerializeToNode(request, JsonSerializerOptions.Web);
            }

            var success = operation.Responses?.FirstOrDefault(r => r.Key.StartsWith('2')).Value;
            if (response is not null && success?.Content?.TryGetValue("application/json", out var content) == true)
            {
                content.Example = JsonSerializer.SerializeToNode(response, JsonSerializerOptions.Web);
            }

            return Task.CompletedTask;
        });

    /// <summary>Declares the bearer scheme, and marks every endpoint that needs it, so Swagger UI's Authorize button works.</summary>
    public static OpenApiOptions AddBearerSecurity(this OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "The accessToken from POST /api/auth/login or /api/auth/refresh.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any())
            {
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] }];
            }

            return Task.CompletedTask;
        });
        return options;
    }
}
