using Chat.Api.Accounts;
using Chat.Api.Messaging;
using Chat.Api.Operations;
using Chat.Api.Platform;
using Chat.Api.Presence;
using Chat.Api.Users;

var builder = WebApplication.CreateBuilder(args);
builder.AddPlatform();    // Platform/: database, the Redis connection, health, ProblemDetails, OpenAPI, rate-limit plumbing
builder.AddAccounts();    // Accounts/: signup, login, refresh, logout, tokens, passwords, the bearer scheme
builder.AddUsers();       // Users/: profiles, the user directory, avatars
builder.AddPresence();    // Presence/: who is online, on every instance
builder.AddMessaging();   // Messaging/: SignalR, ChatHub, its filters, the backplane
builder.AddOperations();  // Operations/: metrics, traces, the Prometheus endpoint, the drain on stop

var app = builder.Build();
app.UsePlatform();
app.MapAccounts();        // /api/auth/*
app.MapUsers();           // /api/users/*
app.MapMessaging();       // /hubs/chat
app.MapHealth();          // /health/live, /health/ready
app.MapOperations();      // /metrics
app.Run();
