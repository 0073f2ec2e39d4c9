using Chat.Api.Accounts;
using Chat.Api.Messaging;
using Chat.Api.Operations;
using Chat.Api.Platform;
using Chat.Api.Presence;
using Chat.Api.Users;

// Settings are read once, at start, where they are validated. Reloading them on change would watch the whole content
// root, App_Data/ included, and wake a thread for every write of the embedded database (5 % of the CPU of an embedded
// server under load on that thread alone, and more in the kernel).
var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
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
