using Chat.Domain.Messaging;

namespace Chat.Tests.Domain;

public sealed class RawMessageTests
{
    [Fact]
    public void Splits_at_the_first_colon_and_keeps_the_rest_of_the_text_as_sent()
    {
        Assert.True(RawMessage.TryParse("bob:see you at 10:30: ok?", out var message, out _));
        Assert.Equal("bob", message.ReceiverId);
        Assert.Equal("see you at 10:30: ok?", message.Text);
    }

    [Fact]
    public void Keeps_the_receiver_id_and_the_text_exactly_as_written()
    {
        Assert.True(RawMessage.TryParse(" Bob : hi  ", out var message, out _));
        Assert.Equal(" Bob ", message.ReceiverId);
        Assert.Equal(" hi  ", message.Text);
    }

    [Theory]
    [InlineData(null, "receiverId:message")]
    [InlineData("", "receiverId:message")]
    [InlineData("no separator", "receiverId:message")]
    [InlineData(":hello", "receiver id")]
    [InlineData("bob:", "message")]
    [InlineData("bob:   \t\n", "message")]
    public void Rejects_bad_input_with_a_message_saying_what_is_wrong(string? raw, string mentioned)
    {
        Assert.False(RawMessage.TryParse(raw, out _, out var error));
        Assert.Contains(mentioned, error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Accepts_exactly_the_maximum_length_and_rejects_one_more()
    {
        Assert.True(RawMessage.TryParse("bob:" + new string('x', OutgoingMessage.MaxTextLength), out _, out _));
        Assert.False(RawMessage.TryParse("bob:" + new string('x', OutgoingMessage.MaxTextLength + 1), out _, out var error));
        Assert.Contains("4096", error);
    }

    [Fact]
    public void Counts_length_in_UTF16_code_units_as_dotnet_does()
    {
        var emoji = "😀"; // two UTF-16 code units
        Assert.True(RawMessage.TryParse("bob:" + string.Concat(Enumerable.Repeat(emoji, 2048)), out _, out _));
        Assert.False(RawMessage.TryParse("bob:x" + string.Concat(Enumerable.Repeat(emoji, 2048)), out _, out _));
    }
}
