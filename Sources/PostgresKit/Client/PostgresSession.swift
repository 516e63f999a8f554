import CPostgreSQL
import Glibc
import StreamCore

/// One libpq connection, used only on the pool thread that owns it: every call here blocks that thread,
/// never a Swift concurrency thread.
///
/// It reconnects by itself between requests: before each request it reads whatever the server sent
/// while the connection was idle (after a server restart that is the end of the connection) and
/// connects again if the connection is gone. A failure in the middle of a request is the request's
/// error; the next request gets a new connection.
public final class PostgresSession {
    private var connection: OpaquePointer?
    /// What this session connects with.
    public let settings: PostgresSettings
    /// Times this session has connected (the first connection included).
    public private(set) var connects = 0
    /// The SQLSTATE of the last statement that failed with one (e.g. `40P01` for a deadlock), so callers
    /// can retry transactions that lost a race without reading message text.
    public private(set) var lastFailureSQLState: String?
    /// Statements prepared on the current connection, by text and parameter types: a statement run
    /// again skips its parse (and, once PostgreSQL settles on a generic plan, its planning), a quarter of
    /// a chunk append's server time. Emptied with the connection.
    private var prepared: [PreparedKey: String] = [:]

    /// Statements one connection keeps prepared at most; others run unprepared. The store's statements
    /// are a few dozen texts.
    static let maxPreparedStatements = 128

    private struct PreparedKey: Hashable {
        var sql: String
        var types: [Oid]
    }

    init(settings: PostgresSettings) {
        self.settings = settings
    }

    deinit { disconnect() }

    /// Closes the connection; the next request connects again.
    func disconnect() {
        if let connection { PQfinish(connection) }
        connection = nil
        prepared.removeAll()
    }

    /// Makes sure the connection is up before a request: connects when there is none, or when the
    /// server ended it while it was idle.
    func prepareForRequest() throws(StreamsError) {
        if let connection {
            // An idle connection has nothing to read unless the server ended it: then a termination notice
            // and the end of the stream wait on the socket. Reading them (without blocking) makes libpq
            // mark the connection bad, so this request gets a new one instead of failing.
            for _ in 0..<PostgresSession.maxIdleReads where Posix.hasInput(PQsocket(connection)) {
                if PQconsumeInput(connection) == 0 { break }
            }
            if PQstatus(connection) == CONNECTION_OK, PQtransactionStatus(connection) == PQTRANS_IDLE { return }
            disconnect()
        }
        try connect()
    }

    /// Reads of an idle connection's socket before a request: a notice, then the end of the stream.
    static let maxIdleReads = 4

    private func connect() throws(StreamsError) {
        var pairs: [(String, String)] = [
            ("connect_timeout", String(settings.connectTimeoutSeconds)),
            ("application_name", settings.applicationName),
            // Expanded: the URL's own parameters override the two above.
            ("dbname", settings.url),
        ]
        if let password = settings.password { pairs.append(("password", password)) }
        let keys = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            keys.forEach { free($0) }
            values.forEach { free($0) }
        }
        var keyPointers: [UnsafePointer<CChar>?] = keys.map { UnsafePointer($0) } + [nil]
        var valuePointers: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        let made = keyPointers.withUnsafeMutableBufferPointer { k in
            valuePointers.withUnsafeMutableBufferPointer { v in
                PQconnectdbParams(k.baseAddress, v.baseAddress, 1)
            }
        }
        guard let made else { throw .storage("postgres: cannot connect to \(settings.redactedURL): out of memory") }
        guard PQstatus(made) == CONNECTION_OK else {
            let message = PostgresErrors.connectionMessage(made)
            PQfinish(made)
            throw .storage("postgres: cannot connect to \(settings.redactedURL): \(message)")
        }
        connection = made
        connects += 1
        // Every session commits durably and bounds its statements (and its idle transactions, when asked),
        // whatever the server's defaults are.
        do {
            try execute("SET synchronous_commit TO on")
            try execute("SET statement_timeout TO \(max(0, settings.statementTimeoutMs))")
            if settings.idleInTransactionTimeoutMs > 0 {
                try execute("SET idle_in_transaction_session_timeout TO \(settings.idleInTransactionTimeoutMs)")
            }
        } catch {
            disconnect()
            throw error
        }
    }

    /// Runs one statement with `parameters` (`$1`, `$2`, …) and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) throws(StreamsError) -> PostgresRows {
        guard let connection else { throw .storage("postgres: not connected to \(settings.redactedURL)") }
        let encoded = parameters.map(\.encoded)
        // One buffer holds every parameter's bytes; libpq reads them during the call only.
        var buffer: [UInt8] = []
        buffer.reserveCapacity(encoded.reduce(0) { $0 + ($1.bytes?.count ?? 0) })
        var offsets: [Int?] = []
        for value in encoded {
            if let bytes = value.bytes {
                offsets.append(buffer.count)
                buffer.append(contentsOf: bytes)
                // Text-format values are read as C strings (their length is ignored).
                if !value.binary { buffer.append(0) }
            } else {
                offsets.append(nil)
            }
        }
        let types = encoded.map(\.oid)
        let lengths = encoded.map { Int32($0.bytes?.count ?? 0) }
        let formats = encoded.map { Int32($0.binary ? 1 : 0) }
        // A zero-length value still needs a non-null pointer (NULL means SQL NULL).
        if buffer.isEmpty { buffer.append(0) }
        let preparedName = try self.preparedName(sql, types: types, on: connection)
        let result = buffer.withUnsafeBufferPointer { bytes in
            let base = UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self)
            let values: [UnsafePointer<CChar>?] = offsets.map { $0.map { base + $0 } }
            if let name = preparedName {
                return PQexecPrepared(connection, name, Int32(parameters.count), values, lengths, formats, 1)
            }
            return PQexecParams(connection, sql, Int32(parameters.count), types, values, lengths, formats, 1)
        }
        guard let result else { throw PostgresErrors.from(result: nil, connection: connection, doing: Self.summary(sql)) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK:
            return PostgresRows(taking: result)
        default:
            let error = PostgresErrors.from(result: result, connection: connection, doing: Self.summary(sql))
            lastFailureSQLState = coordd_PQresultSQLState(result).map { String(cString: $0) }
            PQclear(result)
            throw error
        }
    }

    /// The name `sql` is prepared under for these parameter types, preparing it first; nil for a statement
    /// without parameters or once the connection keeps ``maxPreparedStatements``.
    private func preparedName(_ sql: String, types: [Oid], on connection: OpaquePointer) throws(StreamsError) -> String? {
        guard !types.isEmpty else { return nil }
        let key = PreparedKey(sql: sql, types: types)
        if let name = prepared[key] { return name }
        guard prepared.count < Self.maxPreparedStatements else { return nil }
        let name = "coordd_\(prepared.count)"
        guard let result = PQprepare(connection, name, sql, Int32(types.count), types) else {
            throw PostgresErrors.from(result: nil, connection: connection, doing: Self.summary(sql))
        }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else {
            lastFailureSQLState = coordd_PQresultSQLState(result).map { String(cString: $0) }
            throw PostgresErrors.from(result: result, connection: connection, doing: Self.summary(sql))
        }
        prepared[key] = name
        return name
    }

    /// Runs a statement without parameters whose rows do not matter; a string of several statements is
    /// allowed (simple query protocol).
    public func execute(_ sql: String) throws(StreamsError) {
        guard let connection else { throw .storage("postgres: not connected to \(settings.redactedURL)") }
        guard let result = PQexec(connection, sql) else {
            throw PostgresErrors.from(result: nil, connection: connection, doing: Self.summary(sql))
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK: return
        default:
            lastFailureSQLState = coordd_PQresultSQLState(result).map { String(cString: $0) }
            throw PostgresErrors.from(result: result, connection: connection, doing: Self.summary(sql))
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    ///
    /// When the commit itself fails because the connection broke, whether it took effect is unknown;
    /// the error is transient and says so, and callers that must know read the state back.
    public func transaction<T>(_ body: (PostgresSession) throws(StreamsError) -> T) throws(StreamsError) -> T {
        lastFailureSQLState = nil
        try execute("BEGIN")
        let value: T
        do {
            value = try body(self)
        } catch {
            rollback()
            throw error
        }
        guard let connection else { throw .storage("postgres: the connection closed inside a transaction") }
        guard let result = PQexec(connection, "COMMIT") else {
            throw .storage("postgres: commit failed, its outcome is unknown: \(PostgresErrors.connectionMessage(connection))")
        }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else {
            lastFailureSQLState = coordd_PQresultSQLState(result).map { String(cString: $0) }
            let error = PostgresErrors.from(result: result, connection: connection, doing: "commit")
            throw error.with(message: error.message + (PQstatus(connection) == CONNECTION_OK ? "" : "; its outcome is unknown"))
        }
        // COMMIT of a transaction that had failed answers ROLLBACK, not an error.
        guard String(cString: PQcmdStatus(result)) == "COMMIT" else {
            throw .storage("postgres: the transaction was rolled back by the server")
        }
        return value
    }

    /// Runs `body` in a transaction like ``transaction(_:)``, and runs it again (up to `attempts` times in
    /// all) when PostgreSQL rolled it back for a deadlock or a serialization failure (SQLSTATE class 40):
    /// nothing of it was committed, and the next attempt usually wins.
    public func transaction<T>(attempts: Int, _ body: (PostgresSession) throws(StreamsError) -> T) throws(StreamsError) -> T {
        var attempt = 1
        while true {
            do {
                return try transaction(body)
            } catch {
                guard attempt < attempts, lastFailureSQLState?.hasPrefix("40") == true, PQstatus(connection) == CONNECTION_OK else {
                    throw error
                }
                attempt += 1
            }
        }
    }

    private func rollback() {
        guard let connection, PQstatus(connection) == CONNECTION_OK else { return }
        if let result = PQexec(connection, "ROLLBACK") { PQclear(result) }
    }

    /// The statement's first words, for error messages (never its parameters).
    static func summary(_ sql: String) -> String {
        let words = sql.split(whereSeparator: { $0 == " " || $0 == "\n" }).prefix(3)
        return words.joined(separator: " ")
    }
}
