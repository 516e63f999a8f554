/// How important a log line is; a ``Logger`` drops lines below its level.
public enum LogLevel: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    /// Detail for diagnosing a problem (every connection, every store opened).
    case debug
    /// Normal operation worth a line (start, listening, shutdown).
    case info
    /// Something went wrong but the daemon carries on.
    case warn
    /// Something failed that needs attention.
    case error

    /// The level named `debug`, `info`, `warn` or `error` (any case); nil for anything else.
    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.description == name.lowercased() }) else { return nil }
        self = level
    }

    public var description: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warn: "warn"
        case .error: "error"
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}
