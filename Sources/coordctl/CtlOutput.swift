import Glibc

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
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                // Inside the loop the buffer holds at least one byte, so it has an address.
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return  // The reader went away (EPIPE); there is nowhere left to write.
            }
            offset += written
        }
    }
}
