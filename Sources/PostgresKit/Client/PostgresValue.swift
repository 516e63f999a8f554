import StreamCore

/// A query parameter. Numbers, booleans, UUIDs and bytes travel in PostgreSQL's binary format (a
/// payload is sent as it is, never escaped); text travels as text with its type left to the server, so
/// `$1::timestamptz` or `$1::bigint[]` work with a text value.
public enum PostgresValue: Sendable, Equatable {
    /// SQL NULL.
    case null
    /// Text; the server infers the type from the statement.
    case text(String)
    /// `bigint`.
    case int64(Int64)
    /// `boolean`.
    case bool(Bool)
    /// `bytea`, sent in binary.
    case bytes([UInt8])
    /// `uuid`.
    case uuid(WireUUID)

    /// A text value, or NULL when nil.
    public static func text(_ value: String?) -> PostgresValue { value.map { .text($0) } ?? .null }
    /// Bytes, or NULL when nil.
    public static func bytes(_ value: [UInt8]?) -> PostgresValue { value.map { .bytes($0) } ?? .null }
}

/// The type OIDs coordd sends and reads. They are PostgreSQL's fixed catalogue numbers
/// (`src/include/catalog/pg_type.dat`, unchanged since 7.x and part of the wire protocol); libpq's
/// client headers do not carry them.
public enum PostgresTypeOID {
    public static let unknown: UInt32 = 0
    public static let bool: UInt32 = 16
    public static let bytea: UInt32 = 17
    public static let name: UInt32 = 19
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let varchar: UInt32 = 1043
    public static let uuid: UInt32 = 2950
}

extension PostgresValue {
    /// (type OID, bytes or nil for NULL, 1 for binary / 0 for text).
    var encoded: (oid: UInt32, bytes: [UInt8]?, binary: Bool) {
        switch self {
        case .null: return (PostgresTypeOID.unknown, nil, false)
        case .text(let s): return (PostgresTypeOID.unknown, Array(s.utf8), false)
        case .int64(let v): return (PostgresTypeOID.int8, withUnsafeBytes(of: v.bigEndian) { Array($0) }, true)
        case .bool(let v): return (PostgresTypeOID.bool, [v ? 1 : 0], true)
        case .bytes(let b): return (PostgresTypeOID.bytea, b, true)
        case .uuid(let u): return (PostgresTypeOID.uuid, u.bytes, true)
        }
    }
}
