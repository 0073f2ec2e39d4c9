# Multi-stage build of the API: restore on the project files alone (a cached layer), then publish, then run on
# the slim ASP.NET runtime image as its unprivileged user.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY Chat.Domain/Chat.Domain.csproj Chat.Domain/
COPY Chat.Infrastructure/Chat.Infrastructure.csproj Chat.Infrastructure/
COPY Chat.Api/Chat.Api.csproj Chat.Api/
RUN dotnet restore Chat.Api/Chat.Api.csproj
COPY Chat.Domain/ Chat.Domain/
COPY Chat.Infrastructure/ Chat.Infrastructure/
COPY Chat.Api/ Chat.Api/
RUN dotnet publish Chat.Api/Chat.Api.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "Chat.Api.dll"]
