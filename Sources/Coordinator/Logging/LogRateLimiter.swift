/// How many lines of one kind the daemon writes before it only counts them, with where the numbers
/// come from.
public struct LogRateLimits: Sendable, Hashable {
    /// Lines of one kind written per interval; the rest are counted and reported in one summary line.
    /// Ten a second shows every event of a quiet daemon and a sample of a busy one, and bounds a
    /// failure that repeats thousands of times a second to eleven lines a second. coordd's choice.
    public var linesPerInterval = 10
    /// The interval: a second, so a summary of what was left out follows within a second.
    public var intervalMs: Int64 = 1_000

    /// The defaults above.
    public init() {}
}

/// Decides which log lines are written: at most ``LogRateLimits/linesPerInterval`` lines of one kind
/// in each interval, counting the others, which a summary line reports once the interval is over
/// ("suppressed K similar"). Pure: times are parameters, so tests drive it with a manual clock.
///
/// An interval starts with the first line of its kind and lasts ``LogRateLimits/intervalMs``; a clock
/// that goes back starts a new one. Kinds are the messages written in code, a closed set, so the
/// state per kind needs no bound of its own; a kind is forgotten once its interval is over and reported.
public struct LogRateLimiter: Sendable {
    /// Lines of one kind left out in one interval.
    public struct Suppressed: Sendable, Hashable {
        /// The kind (the line's message).
        public var kind: String
        /// The level its lines had.
        public var level: LogLevel
        /// Lines left out.
        public var count: Int
        /// When the interval began.
        public var sinceMs: Int64

        /// Creates a summary.
        public init(kind: String, level: LogLevel, count: Int, sinceMs: Int64) {
            self.kind = kind
            self.level = level
            self.count = count
            self.sinceMs = sinceMs
        }
    }

    private struct Window {
        var startMs: Int64
        var level: LogLevel
        var written: Int
        var suppressed: Int
    }

    /// The limits in force.
    public let limits: LogRateLimits
    private var windows: [String: Window] = [:]

    /// A limiter with `limits`.
    public init(limits: LogRateLimits = LogRateLimits()) {
        precondition(limits.linesPerInterval > 0 && limits.intervalMs > 0, "log rate limits must be positive: \(limits)")
        self.limits = limits
    }

    /// Whether a line of `kind` at `nowMs` is written, and the summary of the kind's previous interval
    /// when this line ends one in which lines were left out (to be written first).
    public mutating func admit(_ kind: String, level: LogLevel, nowMs: Int64) -> (write: Bool, ended: Suppressed?) {
        var ended: Suppressed?
        if var window = windows[kind], !isOver(window, nowMs: nowMs) {
            if window.written < limits.linesPerInterval {
                window.written += 1
                windows[kind] = window
                return (true, nil)
            }
            window.suppressed += 1
            windows[kind] = window
            return (false, nil)
        } else if let window = windows[kind], window.suppressed > 0 {
            ended = Suppressed(kind: kind, level: window.level, count: window.suppressed, sinceMs: window.startMs)
        }
        windows[kind] = Window(startMs: nowMs, level: level, written: 1, suppressed: 0)
        return (true, ended)
    }

    /// The summaries of intervals that are over at `nowMs` (or of every interval, with `all`, when the
    /// daemon stops), in kind order; their kinds are forgotten.
    public mutating func endIntervals(nowMs: Int64, all: Bool = false) -> [Suppressed] {
        var ended: [Suppressed] = []
        for (kind, window) in windows where all || isOver(window, nowMs: nowMs) {
            windows[kind] = nil
            if window.suppressed > 0 {
                ended.append(Suppressed(kind: kind, level: window.level, count: window.suppressed, sinceMs: window.startMs))
            }
        }
        return ended.sorted { $0.kind < $1.kind }
    }

    /// Kinds with an interval under way.
    public var trackedKinds: Int { windows.count }

    private func isOver(_ window: Window, nowMs: Int64) -> Bool {
        nowMs - window.startMs >= limits.intervalMs || nowMs < window.startMs
    }
}
