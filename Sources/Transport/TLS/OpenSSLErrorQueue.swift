import COpenSSL

/// Reads OpenSSL's per-thread error queue.
///
/// The queue belongs to the thread, not to a connection: one loop thread serves many engines, so
/// every OpenSSL call that may fail starts with ``clear()`` (a stale entry left by another connection
/// would otherwise be reported as this one's reason) and every failure ends with ``drain()``.
enum OpenSSLErrorQueue {
    /// Longest reason string kept per entry; OpenSSL's own messages are well under this.
    private static let reasonBufferBytes = 256

    /// Empties the queue before a call whose failure will be read from it.
    static func clear() {
        ERR_clear_error()
    }

    /// Removes and returns every queued reason, oldest first, as OpenSSL formats them
    /// (`error:0A00010B:SSL routines::wrong version number`).
    static func drain() -> [String] {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var text = [UInt8](repeating: 0, count: reasonBufferBytes)
            text.withUnsafeMutableBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { chars in
                    ERR_error_string_n(code, chars.baseAddress, chars.count)
                }
            }
            reasons.append(String(decoding: text.prefix { $0 != 0 }, as: UTF8.self))
        }
        return reasons
    }

    /// The drained reasons joined for a message, or `fallback` when OpenSSL queued none.
    static func drainedReason(fallback: String) -> String {
        let reasons = drain()
        return reasons.isEmpty ? fallback : reasons.joined(separator: "; ")
    }
}
