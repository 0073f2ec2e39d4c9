using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Chat.Api.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class StoredMessages : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "MessageSequence",
                table: "Users",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateTable(
                name: "Conversations",
                columns: table => new
                {
                    UserId = table.Column<string>(type: "TEXT", unicode: false, maxLength: 32, nullable: false),
                    PeerId = table.Column<string>(type: "TEXT", unicode: false, maxLength: 32, nullable: false),
                    LastMessageId = table.Column<string>(type: "TEXT", unicode: false, maxLength: 32, nullable: false),
                    LastSequence = table.Column<long>(type: "INTEGER", nullable: false),
                    ReadUpTo = table.Column<string>(type: "TEXT", unicode: false, maxLength: 32, nullable: true),
                    ReadSequence = table.Column<long>(type: "INTEGER", nullable: false),
                    UnreadCount = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Conversations", x => new { x.UserId, x.PeerId });
                });

            migrationBuilder.CreateTable(
                name: "Messages",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", unicode: false, maxLength: 32, nullable: false),
                    ConversationId = table.Column<string>(type: "TEXT", unicode: false, maxLength: 65, nullable: false),
                    SenderId = table.Column<string>(type: "TEXT", unicode: false, maxLength: 32, nullable: false),
                    ReceiverId = table.Column<string>(type: "TEXT", unicode: false, maxLength: 32, nullable: false),
                    Text = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: false),
                    SentAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    ClientMessageId = table.Column<string>(type: "TEXT", unicode: false, maxLength: 64, nullable: true),
                    SenderSequence = table.Column<long>(type: "INTEGER", nullable: false),
                    ReceiverSequence = table.Column<long>(type: "INTEGER", nullable: false),
                    ConversationSequence = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Messages", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Conversations_UserId_LastSequence",
                table: "Conversations",
                columns: new[] { "UserId", "LastSequence" });

            migrationBuilder.CreateIndex(
                name: "IX_Messages_ConversationId_ConversationSequence",
                table: "Messages",
                columns: new[] { "ConversationId", "ConversationSequence" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Messages_ReceiverId_ReceiverSequence",
                table: "Messages",
                columns: new[] { "ReceiverId", "ReceiverSequence" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Messages_SenderId_ClientMessageId",
                table: "Messages",
                columns: new[] { "SenderId", "ClientMessageId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Messages_SenderId_SenderSequence",
                table: "Messages",
                columns: new[] { "SenderId", "SenderSequence" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "Conversations");

            migrationBuilder.DropTable(
                name: "Messages");

            migrationBuilder.DropColumn(
                name: "MessageSequence",
                table: "Users");
        }
    }
}
