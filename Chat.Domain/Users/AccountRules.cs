using System.Net.Mail;
using System.Text.RegularExpressions;

namespace Chat.Domain.Users;

/// <summary>The validation rules of the public contract for usernames, emails and passwords.</summary>
public static partial class AccountRules
{
    public const int UsernameMinLength = 3;
    public const int UsernameMaxLength = 32;
    public const int EmailMaxLength = 254;
    public const int PasswordMinLength = 8;
    public const int PasswordMaxLength = 128;

    /// <summary>A login names a username or an email, so it is never longer than the longest email.</summary>
    public const int LoginMaxLength = EmailMaxLength;

    // \A and \z anchor the whole string: .NET's $ also matches before a final "\n", which let "probe1\n" through.
    [GeneratedRegex(@"\A[A-Za-z0-9_.-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex UsernameCharacters();

    public static string? UsernameError(string? username) => username switch
    {
        null or "" => "Username is required.",
        { Length: < UsernameMinLength or > UsernameMaxLength } =>
            $"Username must be {UsernameMinLength} to {UsernameMaxLength} characters long.",
        _ when !UsernameCharacters().IsMatch(username) =>
            "Username may contain only letters, digits, '_', '.' and '-'.",
        _ => null,
    };

    /// <summary>What is wrong with the username or email typed at login; null when it may name an account.</summary>
    public static string? LoginError(string? login) => login switch
    {
        _ when string.IsNullOrWhiteSpace(login) => "Username or email is required.",
        { Length: > LoginMaxLength } => $"Username or email must be at most {LoginMaxLength} characters long.",
        _ => null,
    };

    public static string? EmailError(string? email)
    {
        var trimmed = email?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            return "Email is required.";
        }

        if (trimmed.Length > EmailMaxLength)
        {
            return $"Email must be at most {EmailMaxLength} characters long.";
        }

        // MailAddress also accepts "Name <a@b>" and comments; only a bare address that round-trips is an email here.
        var valid = MailAddress.TryCreate(trimmed, out var address)
            && address.Address == trimmed
            && address.Host.Length > 0
            && !trimmed.Any(char.IsWhiteSpace);
        return valid ? null : "Email is not a valid email address.";
    }

    public static string? PasswordError(string? password) => password switch
    {
        null or "" => "Password is required.",
        { Length: < PasswordMinLength or > PasswordMaxLength } =>
            $"Password must be {PasswordMinLength} to {PasswordMaxLength} characters long.",
        _ => null,
    };

    /// <summary>Every broken rule of a signup, keyed by the camelCase field name; empty when the signup is valid.</summary>
    public static Dictionary<string, string[]> ValidateSignup(string? username, string? email, string? password)
    {
        var errors = new Dictionary<string, string[]>();
        Add(errors, "username", UsernameError(username));
        Add(errors, "email", EmailError(email));
        Add(errors, "password", PasswordError(password));
        return errors;
    }

    private static void Add(Dictionary<string, string[]> errors, string field, string? error)
    {
        if (error is not null)
        {
            errors[field] = [error];
        }
    }
}
