using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace Chat.Api.Messaging;

/// <summary>
/// This instance's connections by a key (a user id, a group name): a lookup costs the same however many connections
/// the instance holds. SignalR's default manager scans every connection to find a user's.
/// </summary>
internal sealed class ConnectionIndex
{
    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);

    public HubConnectionContext[] this[string key] => entries.TryGetValue(key, out var entry) ? entry.Connections : [];

    public void Add(string key, HubConnectionContext connection)
    {
        while (true)
        {
            var entry = entries.GetOrAdd(key, static _ => new Entry());
            lock (entry)
            {
                // An entry emptied and dropped by a concurrent removal must not be revived: take a fresh one.
                if (!entry.Dropped)
                {
                    if (Array.IndexOf(entry.Connections, connection) < 0)
                    {
                        entry.Connections = [.. entry.Connections, connection];
                    }

                    return;
                }
            }
        }
    }

    public void Remove(string key, HubConnectionContext connection)
    {
        if (!entries.TryGetValue(key, out var entry))
        {
            return;
        }

        lock (entry)
        {
            entry.Connections = Array.FindAll(entry.Connections, c => c != connection);
            if (entry.Connections.Length == 0)
            {
                entry.Dropped = true;
                entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
            }
        }
    }

    private sealed class Entry
    {
        // Replaced whole (copy on write) under the entry's lock, read without it by senders.
        public volatile HubConnectionContext[] Connections = [];

        public bool Dropped;
    }
}
