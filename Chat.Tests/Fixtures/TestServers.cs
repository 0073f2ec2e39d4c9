using MySqlConnector;
using Testcontainers.MySql;
using Testcontainers.Redis;

namespace Chat.Tests.Fixtures;

/// <summary>
/// The real MySQL/MariaDB and Redis servers every integration test uses, started once per test run: the ones
/// ./test.sh started and exported, or else Testcontainers when a Docker engine answers. Never a fake.
/// </summary>
public static class TestServers
{
    private static readonly Lazy<Task<Endpoints>> Started = new(StartAsync);

    public sealed record Endpoints(string MySql, string Redis);

    public static Task<Endpoints> GetAsync() => Started.Value;

    /// <summary>A fresh database on the test server, so every fixture starts from an empty schema.</summary>
    public static async Task<string> CreateDatabaseAsync(string name)
    {
        var servers = await GetAsync();
        await using var connection = new MySqlConnection(servers.MySql);
        await connection.OpenAsync();
        await using var command = new MySqlCommand($"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}`", connection);
        await command.ExecuteNonQueryAsync();
        return new MySqlConnectionStringBuilder(servers.MySql) { Database = name }.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string name)
    {
        var servers = await GetAsync();
        await using var connection = new MySqlConnection(servers.MySql);
        await connection.OpenAsync();
        await using var command = new MySqlCommand($"DROP DATABASE IF EXISTS `{name}`", connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<Endpoints> StartAsync()
    {
        var mySql = Environment.GetEnvironmentVariable("CHAT_TEST_MYSQL");
        var redis = Environment.GetEnvironmentVariable("CHAT_TEST_REDIS");
        if (!string.IsNullOrEmpty(mySql) && !string.IsNullOrEmpty(redis))
        {
            return new Endpoints(mySql, redis);
        }

        try
        {
            var mySqlContainer = new MySqlBuilder("mysql:8.4").WithUsername("root").WithPassword("chat").Build();
            var redisContainer = new RedisBuilder("redis:7").Build();
            await Task.WhenAll(mySqlContainer.StartAsync(), redisContainer.StartAsync());
            var server = new MySqlConnectionStringBuilder(mySqlContainer.GetConnectionString()) { Database = "" };
            return new Endpoints(server.ConnectionString, redisContainer.GetConnectionString());
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(
                "The integration tests need MySQL/MariaDB and Redis. Run them with ./test.sh, which installs and starts " +
                "both on loopback, or start a Docker engine for Testcontainers, or set CHAT_TEST_MYSQL (a connection " +
                "string without a database) and CHAT_TEST_REDIS (host:port).", ex);
        }
    }
}
