/// How to reach PostgreSQL: a libpq connection URL or `key=value` string, with the password kept
/// apart so that it is never part of anything logged.
public struct PostgresSettings: Sendable, CustomStringConvertible {
    /// A libpq connection string: `postgresql://user@host:port/db?sslmode=require`, or `host=… dbname=…`.
    /// TLS is libpq's business: `sslmode`, `sslrootcert` and friends go here.
    public var url: String
    /// The password, read from a file; nil leaves it to the URL, `PGPASSWORD` or `PGPASSFILE`.
    public var password: String?
    /// Longest a statement may run before PostgreSQL cancels it (`SET statement_timeout`); 0 = no limit.
    public var statementTimeoutMs: Int64
    /// Longest a session may sit idle inside a transaction before PostgreSQL ends it
    /// (`SET idle_in_transaction_session_timeout`); 0 = the server's setting. A daemon paused or lost in
    /// the middle of a write transaction keeps that transaction's row locks until then, and a take-over of
    /// its stores waits for them: the daemon sets its ownership TTL here.
    public var idleInTransactionTimeoutMs: Int64
    /// Longest a connection attempt may take, in whole seconds (libpq's `connect_timeout`) — unless the
    /// URL says otherwise.
    public var connectTimeoutSeconds: Int
    /// How the connections name themselves in `pg_stat_activity`.
    public var applicationName: String

    /// Creates settings.
    public init(url: String, password: String? = nil, statementTimeoutMs: Int64 = PostgresLimits.defaultStatementTimeoutMs,
                idleInTransactionTimeoutMs: Int64 = 0,
                connectTimeoutSeconds: Int = PostgresLimits.defaultConnectTimeoutSeconds, applicationName: String = "coordd") {
        self.url = url
        self.password = password
        self.statementTimeoutMs = statementTimeoutMs
        self.idleInTransactionTimeoutMs = idleInTransactionTimeoutMs
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.applicationName = applicationName
    }

    /// The URL with any password replaced by `***`: what logs, errors and `/readyz` show.
    public var redactedURL: String { PostgresURL.redacted(url) }

    /// Never shows the password.
    public var description: String {
        "\(redactedURL) (password \(password == nil ? "from the URL or libpq's environment" : "from a file"))"
    }
}

/// Named limits of the PostgreSQL client, with where each value comes from.
public enum PostgresLimits {
    /// A statement that runs longer is cancelled: 30 s, far beyond any chunk of 8 MiB on a healthy
    /// server, short enough that a hung server fails requests instead of holding them.
    public static let defaultStatementTimeoutMs: Int64 = 30_000
    /// A connection attempt that takes longer fails: 10 s (libpq has none by default and waits for TCP).
    public static let defaultConnectTimeoutSeconds = 10
    /// Connections by default: 8, enough to keep a server's group commit busy on a small machine.
    public static let defaultPoolSize = 8
    /// Largest pool: PostgreSQL's default `max_connections` is 100, shared with every other client.
    public static let maxPoolSize = 100
    /// Requests that may wait for a free connection, per connection in the pool; past it a request
    /// fails at once with a transient error instead of queueing without bound.
    public static let waitingPerConnection = 64
}

/// Password redaction for libpq connection strings.
public enum PostgresURL {
    /// `url` with the password in its user info, a `password=` query parameter or a `password=` keyword
    /// replaced by `***`.
    public static func redacted(_ url: String) -> String {
        if let scheme = url.range(of: "://") {
            var head = String(url[..<scheme.upperBound])
            let rest = url[scheme.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let user = authority[..<at]
                if let colon = user.firstIndex(of: ":") {
                    head += user[..<colon] + ":***"
                } else {
                    head += user
                }
                head += authority[at...]
            } else {
                head += authority
            }
            let tail = rest[authorityEnd...]
            guard let question = tail.firstIndex(of: "?") else { return head + tail }
            let parameters = tail[tail.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map {
                $0.lowercased().hasPrefix("password=") ? "password=***" : String($0)
            }
            return head + tail[...question] + parameters.joined(separator: "&")
        }
        return redactedKeywords(url)
    }

    /// `host=h password='a b' dbname=d` → `host=h password=*** dbname=d`.
    private static func redactedKeywords(_ text: String) -> String {
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            // Copy whitespace, then read one keyword.
            if text[i].isWhitespace { out.append(text[i]); i = text.index(after: i); continue }
            var keyEnd = i
            while keyEnd < text.endIndex, text[keyEnd] != "=", !text[keyEnd].isWhitespace { keyEnd = text.index(after: keyEnd) }
            let key = text[i..<keyEnd]
            var j = keyEnd
            while j < text.endIndex, text[j].isWhitespace { j = text.index(after: j) }
            guard j < text.endIndex, text[j] == "=" else { out += text[i..<j]; i = j; continue }
            j = text.index(after: j)
            while j < text.endIndex, text[j].isWhitespace { j = text.index(after: j) }
            let valueStart = j
            if j < text.endIndex, text[j] == "'" {
                j = text.index(after: j)
                while j < text.endIndex, text[j] != "'" {
                    if text[j] == "\\" { j = text.index(after: j); if j == text.endIndex { break } }
                    j = text.index(after: j)
                }
                if j < text.endIndex { j = text.index(after: j) }
            } else {
                while j < text.endIndex, !text[j].isWhitespace { j = text.index(after: j) }
            }
            out += key + "="
            out += key.lowercased() == "password" ? "***" : text[valueStart..<j]
            i = j
        }
        return out
    }
}
