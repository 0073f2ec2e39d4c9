using Chat.Domain.Users;

namespace Chat.Tests.Domain;

public sealed class AccountRulesTests
{
    [Theory]
    [InlineData("abc")]
    [InlineData("Alice_Smith-2.0")]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345")]
    public void Accepts_usernames_of_3_to_32_allowed_characters(string username) =>
        Assert.Null(AccountRules.UsernameError(username));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ab")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")]
    [InlineData("has space")]
    [InlineData("at@sign")]
    [InlineData("colon:name")]
    [InlineData("émile")]
    [InlineData("probe1\n")]
    [InlineData("probe1\r\n")]
    [InlineData("probe1 ")]
    [InlineData(" probe1")]
    [InlineData("\nprobe1")]
    public void Rejects_other_usernames(string? username) => Assert.NotNull(AccountRules.UsernameError(username));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void A_login_names_someone(string? login) => Assert.NotNull(AccountRules.LoginError(login));

    [Fact]
    public void A_login_is_at_most_254_characters_the_longest_email()
    {
        Assert.Null(AccountRules.LoginError(new string('a', 254)));
        Assert.NotNull(AccountRules.LoginError(new string('a', 255)));
        Assert.Null(AccountRules.LoginError("alice"));
    }

    [Theory]
    [InlineData("a@example.com")]
    [InlineData("  Alice.Smith+chat@Example.COM  ")]
    public void Accepts_valid_emails_with_surrounding_spaces(string email) => Assert.Null(AccountRules.EmailError(email));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("not-an-email")]
    [InlineData("Alice <alice@example.com>")]
    [InlineData("a b@example.com")]
    [InlineData("@example.com")]
    public void Rejects_invalid_emails(string? email) => Assert.NotNull(AccountRules.EmailError(email));

    [Fact]
    public void Accepts_passwords_of_8_to_128_characters_only()
    {
        Assert.NotNull(AccountRules.PasswordError(new string('p', 7)));
        Assert.Null(AccountRules.PasswordError(new string('p', 8)));
        Assert.Null(AccountRules.PasswordError(new string('p', 128)));
        Assert.NotNull(AccountRules.PasswordError(new string('p', 129)));
        Assert.NotNull(AccountRules.PasswordError(null));
    }

    [Fact]
    public void Reports_every_broken_rule_keyed_by_the_camelCase_field()
    {
        var errors = AccountRules.ValidateSignup("x", "nope", "short");
        Assert.Equal(["email", "password", "username"], errors.Keys.Order());
        Assert.Empty(AccountRules.ValidateSignup("alice", "alice@example.com", "long enough"));
    }
}
