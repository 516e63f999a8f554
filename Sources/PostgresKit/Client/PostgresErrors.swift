import CPostgreSQL
import StreamCore

/// How libpq's failures become ``StreamsError``s: by SQLSTATE class, never by message text.
///
/// Transient (`storage_error`, code 1): the connection is gone or was refused, the transaction lost a
/// serialization or deadlock race, the server is short of resources or shutting down, a statement was
/// cancelled (the statement timeout). Anything else is permanent: the same statement fails again.
/// Messages are libpq's and the server's, which never contain the password.
enum PostgresErrors {
    /// SQLSTATE classes whose failures may pass on retry (PostgreSQL manual, appendix A).
    static let transientClasses: Set<String> = [
        "08",  // connection exception
        "40",  // transaction rollback: serialization_failure, deadlock_detected
        "53",  // insufficient resources: too many connections, disk full
        "57",  // operator intervention: admin shutdown, query_canceled (statement timeout)
        "58",  // system error (I/O)
    ]

    /// The error of a failed result (or of the connection when there is no result).
    static func from(result: OpaquePointer?, connection: OpaquePointer?, doing what: String) -> StreamsError {
        let state = result.flatMap { coordd_PQresultSQLState($0) }.map { String(cString: $0) }
        let primary = result.flatMap { coordd_PQresultPrimaryMessage($0) }.map { String(cString: $0) }
        let connectionLost = connection.map { PQstatus($0) != CONNECTION_OK } ?? true
        let text = primary ?? connectionMessage(connection)
        guard let state else {
            // No SQLSTATE: libpq itself failed, which is the connection (or memory).
            return .storage("postgres: \(what) failed: \(text)\(connectionLost ? " (connection lost)" : "")")
        }
        let message = "postgres: \(what) failed: \(text) (SQLSTATE \(state))"
        if connectionLost || transientClasses.contains(String(state.prefix(2))) {
            return .storage(message)
        }
        return StreamsError(.permanent, name: "storage_error", message: message)
    }

    /// libpq's last message for the connection, trimmed to its first line.
    static func connectionMessage(_ connection: OpaquePointer?) -> String {
        guard let connection, let message = PQerrorMessage(connection) else { return "no connection" }
        let text = String(cString: message).trimmingTrailingNewlines()
        return text.isEmpty ? "unknown error" : text
    }
}

extension String {
    /// Multi-line libpq messages on one line: lines joined with "; ".
    func trimmingTrailingNewlines() -> String {
        split(whereSeparator: \.isNewline).map { $0.trimmingSpaces() }.filter { !$0.isEmpty }.joined(separator: "; ")
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
