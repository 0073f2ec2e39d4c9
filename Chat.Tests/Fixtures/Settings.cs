namespace Chat.Tests.Fixtures;

/// <summary>App settings by configuration key ("Jwt:SigningKey"), as a test hands them to <see cref="ChatApp.Start"/>.</summary>
public static class Settings
{
    /// <summary>A new dictionary of every layer's settings, a later layer's value winning; null layers are skipped.</summary>
    public static Dictionary<string, string?> Merge(params IEnumerable<KeyValuePair<string, string?>>?[] layers)
    {
        var merged = new Dictionary<string, string?>();
        foreach (var layer in layers)
        {
            foreach (var (key, value) in layer ?? [])
            {
                merged[key] = value;
            }
        }

        return merged;
    }
}
