import StreamCore

/// Where coordctl writes: results to standard output, errors to standard error.
protocol CtlOutput: Sendable {
    /// Writes results (tables, JSON lines).
    func write(_ text: String)
    /// Writes an error or a usage message.
    func writeError(_ text: String)
}

/// The process's standard output and error, written with `write(2)` at once so `--watch` and
/// `--follow` lines reach a pipe as they happen rather than when a buffer fills.
struct StandardStreams: CtlOutput {
    func write(_ text: String) { Self.write(text, to: 1) }

    func writeError(_ text: String) { Self.write(text, to: 2) }

    private static func write(_ text: String, to fd: Int32) {
        var text = text
        // A failure means the reader went away (EPIPE): there is nowhere left to write.
        text.withUTF8 { try? Posix.writeAll(fd, UnsafeRawBufferPointer($0)) }
    }
}
