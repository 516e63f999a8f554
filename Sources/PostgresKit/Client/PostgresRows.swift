import CPostgreSQL
import StreamCore

/// The rows of one statement, in PostgreSQL's binary format, read on the connection's thread.
///
/// Accessors check the column's type, so a schema that drifted from the code fails with a clear error
/// instead of misreading bytes.
public final class PostgresRows {
    private let result: OpaquePointer
    /// Rows returned.
    public let count: Int
    /// Rows the statement inserted, updated or deleted (PostgreSQL's command tag count).
    public let affected: Int

    init(taking result: OpaquePointer) {
        self.result = result
        count = Int(PQntuples(result))
        affected = Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    deinit { PQclear(result) }

    /// True when the value is SQL NULL.
    public func isNull(_ row: Int, _ column: Int) -> Bool {
        PQgetisnull(result, Int32(row), Int32(column)) != 0
    }

    private func raw(_ row: Int, _ column: Int) -> UnsafeRawBufferPointer {
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        let pointer = PQgetvalue(result, Int32(row), Int32(column))
        return UnsafeRawBufferPointer(start: pointer.map { UnsafeRawPointer($0) }, count: length)
    }

    private func type(_ column: Int) -> UInt32 { PQftype(result, Int32(column)) }

    private func mismatch(_ column: Int, _ wanted: String) -> StreamsError {
        let name = PQfname(result, Int32(column)).map { String(cString: $0) } ?? "#\(column)"
        return .storage("postgres: column \(name) has type OID \(type(column)), not \(wanted): the schema does not match this build")
    }

    /// A `smallint`, `integer` or `bigint` column; nil when NULL.
    public func int64(_ row: Int, _ column: Int) throws(StreamsError) -> Int64? {
        guard !isNull(row, column) else { return nil }
        let bytes = raw(row, column)
        var value: Int64 = 0
        switch (type(column), bytes.count) {
        case (PostgresTypeOID.int8, 8), (PostgresTypeOID.int4, 4), (PostgresTypeOID.int2, 2):
            for b in bytes { value = value << 8 | Int64(b) }
            // Sign-extend the narrower integers.
            let shift = Int64(64 - 8 * bytes.count)
            return (value << shift) >> shift
        default:
            throw mismatch(column, "an integer")
        }
    }

    /// A `text`, `varchar` or `name` column; nil when NULL.
    public func string(_ row: Int, _ column: Int) throws(StreamsError) -> String? {
        guard !isNull(row, column) else { return nil }
        switch type(column) {
        case PostgresTypeOID.text, PostgresTypeOID.varchar, PostgresTypeOID.name:
            return String(decoding: raw(row, column), as: UTF8.self)
        default:
            throw mismatch(column, "text")
        }
    }

    /// A `bytea` column; nil when NULL.
    public func bytes(_ row: Int, _ column: Int) throws(StreamsError) -> [UInt8]? {
        guard !isNull(row, column) else { return nil }
        guard type(column) == PostgresTypeOID.bytea else { throw mismatch(column, "bytea") }
        return Array(raw(row, column))
    }

    /// A `boolean` column; nil when NULL.
    public func bool(_ row: Int, _ column: Int) throws(StreamsError) -> Bool? {
        guard !isNull(row, column) else { return nil }
        guard type(column) == PostgresTypeOID.bool else { throw mismatch(column, "boolean") }
        return raw(row, column).first != 0
    }

    /// A `uuid` column; nil when NULL.
    public func uuid(_ row: Int, _ column: Int) throws(StreamsError) -> WireUUID? {
        guard !isNull(row, column) else { return nil }
        guard type(column) == PostgresTypeOID.uuid, let uuid = WireUUID(bytes: raw(row, column)) else {
            throw mismatch(column, "uuid")
        }
        return uuid
    }
}
