# Multi-stage build of the API: the SignalR browser client from npm (a Node stage, so the .NET SDK image needs no
# Node.js), restore on the project files alone (a cached layer), then publish, then run on the slim ASP.NET runtime
# image as its unprivileged user.
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY Chat.Api/package.json Chat.Api/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY Chat.Domain/Chat.Domain.csproj Chat.Domain/
COPY Chat.Api/Chat.Api.csproj Chat.Api/
RUN dotnet restore Chat.Api/Chat.Api.csproj
COPY Chat.Domain/ Chat.Domain/
COPY Chat.Api/ Chat.Api/
# With this file in place (and no node_modules: .dockerignore), Chat.Api's build does not run npm.
COPY --from=web /web/node_modules/@microsoft/signalr/dist/browser/signalr.min.js Chat.Api/wwwroot/lib/signalr/signalr.min.js
RUN dotnet publish Chat.Api/Chat.Api.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_HTTP_PORTS=8080
# Optimized code replaces quick code as soon as a method is hot, not once the JIT has been idle for 100 ms (1 s on
# one core), which a busy instance may not be for minutes (docs/benchmarks.md).
ENV DOTNET_TC_CallCountingDelayMs=0
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "Chat.Api.dll"]
