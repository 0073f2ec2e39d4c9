using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Chat.Api.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SharedMessageSequence : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "MessageCounter",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false),
                    Last = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MessageCounter", x => x.Id);
                });

            // The shared sequence goes on from the largest number any user's own sequence gave: every message stored
            // from now on sorts after every older one, for each user and conversation alike.
            migrationBuilder.Sql("INSERT INTO MessageCounter (Id, Last) SELECT 1, COALESCE(MAX(MessageSequence), 0) FROM Users;");

            migrationBuilder.DropColumn(
                name: "MessageSequence",
                table: "Users");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "MessageSequence",
                table: "Users",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            // Each user's own sequence goes on from the largest number of their messages.
            migrationBuilder.Sql(
                "UPDATE Users SET MessageSequence = MAX(" +
                "COALESCE((SELECT MAX(SenderSequence) FROM Messages WHERE Messages.SenderId = Users.Id), 0), " +
                "COALESCE((SELECT MAX(ReceiverSequence) FROM Messages WHERE Messages.ReceiverId = Users.Id), 0));");

            migrationBuilder.DropTable(
                name: "MessageCounter");
        }
    }
}
