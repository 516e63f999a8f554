import Glibc
import StreamCore
import Synchronization

/// Writes structured lines, one per event: `ts=… level=… msg=… key=value…` (logfmt) or one JSON
/// object with the same keys (``LogLineFormat``).
///
/// A value handed to whoever logs (never a global), so tests capture lines with their own sink and a
/// manual clock. The pure engines never log: the shells decide what is worth a line. With rate limits,
/// at most ``LogRateLimits/linesPerInterval`` lines of one message are written per interval and a
/// summary line counts the rest; copies of a logger share its limits.
public struct Logger: Sendable {
    /// Lines below this level are dropped.
    public var level: LogLevel
    /// How lines are written.
    public var format: LogLineFormat
    private let clock: any WallClock
    private let sink: @Sendable (String) -> Void
    private let limiter: LogLineLimiter?

    /// A logger writing lines (with their line feed) to `sink` in `format`, timestamped by `clock`;
    /// with `rateLimits`, lines of one message beyond the limit are counted instead of written.
    public init(level: LogLevel = .info, format: LogLineFormat = .logfmt, clock: any WallClock = SystemWallClock(),
                rateLimits: LogRateLimits? = nil, sink: @escaping @Sendable (String) -> Void = Logger.standardError) {
        self.level = level
        self.format = format
        self.clock = clock
        self.sink = sink
        limiter = rateLimits.map(LogLineLimiter.init)
    }

    /// Writes `line` to standard error with one `write(2)`, so lines from several threads never
    /// interleave (a pipe writes up to `PIPE_BUF` bytes atomically).
    public static let standardError: @Sendable (String) -> Void = { line in
        var line = line
        // Nowhere is left to report a failing standard error, so a failure drops the line.
        line.withUTF8 { try? Posix.writeAll(2, UnsafeRawBufferPointer($0)) }
    }

    /// The rate limits lines are written under; nil when every line is written.
    public var rateLimits: LogRateLimits? { limiter?.limits }

    /// True when a line at `level` would be written (to skip building expensive fields).
    public func isEnabled(_ level: LogLevel) -> Bool { level >= self.level }

    /// Writes one line at `level` with `fields` in order.
    public func log(_ level: LogLevel, _ message: String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        guard isEnabled(level), let nowMs = admit(level, message) else { return }
        sink(format.line(timestampMs: nowMs, level: level, message: message, fields: fields.map { ($0.key, LogValue($0.value)) }))
    }

    /// Writes one line at `level` with `fields` computed elsewhere (a configuration's log fields).
    public func log(_ level: LogLevel, _ message: String, fields: [(String, String)]) {
        guard isEnabled(level), let nowMs = admit(level, message) else { return }
        sink(format.line(timestampMs: nowMs, level: level, message: message, fields: fields.map { ($0.0, .text($0.1)) }))
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

    /// Writes the summary line of every rate-limit interval that is over (or of all of them, with
    /// `all`, as the daemon stops). The daemon calls it every interval, so a summary comes even when
    /// no further line of its kind does.
    public func flushSuppressed(all: Bool = false) {
        guard let limiter else { return }
        let nowMs = clock.nowMs()
        for ended in limiter.endIntervals(nowMs: nowMs, all: all) { sink(summary(ended, nowMs: nowMs)) }
    }

    /// The time of a line of `message` that is to be written (first writing the summary of the lines
    /// its rate limit left out, when this line ends their interval), or nil when it is left out. Asked
    /// before the line is built, so a left-out line costs no formatting.
    private func admit(_ level: LogLevel, _ message: String) -> Int64? {
        let nowMs = clock.nowMs()
        guard let limiter else { return nowMs }
        let (write, ended) = limiter.admit(message, level: level, nowMs: nowMs)
        if let ended { sink(summary(ended, nowMs: nowMs)) }
        return write ? nowMs : nil
    }

    /// The message of the line that reports lines left out.
    public static let suppressedMessage = "suppressed similar lines"

    /// `msg="suppressed similar lines" similar="<message>" suppressed=K interval=1s`, at the level the
    /// left-out lines had.
    private func summary(_ ended: LogRateLimiter.Suppressed, nowMs: Int64) -> String {
        let intervalMs = limiter?.limits.intervalMs ?? 0
        return format.line(timestampMs: nowMs, level: ended.level, message: Self.suppressedMessage, fields: [
            ("similar", .text(ended.kind)), ("suppressed", .number(String(ended.count))),
            ("interval", .text(DurationText.format(milliseconds: intervalMs))),
        ])
    }

    /// One logfmt line ending in a line feed: `ts=2026-01-01T00:00:00.000Z level=info msg="…" k=v`.
    public static func line(timestampMs: Int64, level: LogLevel, message: String, fields: [(String, String)]) -> String {
        LogLineFormat.logfmt.line(timestampMs: timestampMs, level: level, message: message,
                                  fields: fields.map { ($0.0, .text($0.1)) })
    }
}

/// A ``LogRateLimiter`` shared by the copies of one logger, from any thread.
final class LogLineLimiter: Sendable {
    let limits: LogRateLimits
    private let state: Mutex<LogRateLimiter>

    init(_ limits: LogRateLimits) {
        self.limits = limits
        state = Mutex(LogRateLimiter(limits: limits))
    }

    func admit(_ kind: String, level: LogLevel, nowMs: Int64) -> (write: Bool, ended: LogRateLimiter.Suppressed?) {
        state.withLock { $0.admit(kind, level: level, nowMs: nowMs) }
    }

    func endIntervals(nowMs: Int64, all: Bool) -> [LogRateLimiter.Suppressed] {
        state.withLock { $0.endIntervals(nowMs: nowMs, all: all) }
    }
}
