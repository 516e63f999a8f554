import Glibc
import StreamCore

/// Writes structured lines, `ts=… level=… msg=… key=value…`, one per event (logfmt).
///
/// A value handed to whoever logs (never a global), so tests capture lines with their own sink and a
/// manual clock. The pure engines never log: the shells decide what is worth a line.
public struct Logger: Sendable {
    /// Lines below this level are dropped.
    public var level: LogLevel
    private let clock: any WallClock
    private let sink: @Sendable (String) -> Void

    /// A logger writing lines (with their line feed) to `sink`, timestamped by `clock`.
    public init(level: LogLevel = .info, clock: any WallClock = SystemWallClock(),
                sink: @escaping @Sendable (String) -> Void = Logger.standardError) {
        self.level = level
        self.clock = clock
        self.sink = sink
    }

    /// Writes `line` to standard error with one `write(2)`, so lines from several threads never
    /// interleave (a pipe writes up to `PIPE_BUF` bytes atomically).
    public static let standardError: @Sendable (String) -> Void = { line in
        let bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                // Inside the loop the buffer holds at least one byte, so it has an address.
                Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return  // Nowhere left to report a failing stderr.
            }
            offset += written
        }
    }

    /// True when a line at `level` would be written (to skip building expensive fields).
    public func isEnabled(_ level: LogLevel) -> Bool { level >= self.level }

    /// Writes one line at `level` with `fields` in order.
    public func log(_ level: LogLevel, _ message: String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        guard isEnabled(level) else { return }
        sink(Self.line(timestampMs: clock.nowMs(), level: level, message: message,
                       fields: fields.map { ($0.key, $0.value.description) }))
    }

    /// Writes one line at `level` with `fields` computed elsewhere (a configuration's log fields).
    public func log(_ level: LogLevel, _ message: String, fields: [(String, String)]) {
        guard isEnabled(level) else { return }
        sink(Self.line(timestampMs: clock.nowMs(), level: level, message: message, fields: fields))
    }

    /// A `debug` line.
    public func debug(_ message: String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        log(.debug, message, fields)
    }

    /// An `info` line.
    public func info(_ message: String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        log(.info, message, fields)
    }

    /// A `warn` line.
    public func warn(_ message: String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        log(.warn, message, fields)
    }

    /// An `error` line.
    public func error(_ message: String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        log(.error, message, fields)
    }

    /// One formatted line ending in a line feed: `ts=2026-01-01T00:00:00.000Z level=info msg="…" k=v`.
    public static func line(timestampMs: Int64, level: LogLevel, message: String, fields: [(String, String)]) -> String {
        var line = "ts=" + UTCTimestamp.rfc3339(milliseconds: timestampMs) + " level=\(level) msg=" + quoteIfNeeded(message)
        for (key, value) in fields {
            line += " " + sanitizedKey(key) + "=" + quoteIfNeeded(value)
        }
        return line + "\n"
    }

    /// A value as logfmt writes it: bare when it is a plain word, otherwise in double quotes with `"`,
    /// `\` and control characters escaped, so one event is always exactly one line.
    static func quoteIfNeeded(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains {
            $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F
        }
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u" + String(repeating: "0", count: scalar.value < 0x10 ? 3 : 2) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A key reduced to letters, digits, `_`, `.` and `-` (keys are chosen in code; this only keeps a
    /// careless one from breaking the line's syntax).
    static func sanitizedKey(_ key: String) -> String {
        let kept = key.unicodeScalars.map { scalar -> Character in
            let ok = (scalar.properties.isAlphabetic && scalar.isASCII) || ("0"..."9").contains(scalar)
                || scalar == "_" || scalar == "." || scalar == "-"
            return ok ? Character(scalar) : "_"
        }
        return kept.isEmpty ? "_" : String(kept)
    }
}
