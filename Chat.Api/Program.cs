var builder = WebApplication.CreateBuilder(args);
builder.AddChatInfrastructure();
builder.AddChatApi();

var app = builder.Build();
app.UseChatPipeline();
app.MapAuthEndpoints();
app.MapUserEndpoints();
app.MapChatHub();
app.MapChatHealthChecks();
app.Run();
