namespace Chat.Domain;

/// <summary>Opaque ids that sort by creation time: a UUIDv7 (millisecond timestamp first) as 32 hex digits.</summary>
public static class SortableId
{
    public static string New(TimeProvider time) => Guid.CreateVersion7(time.GetUtcNow()).ToString("N");
}
