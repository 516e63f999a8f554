import Glibc
import StreamCore

/// The runtime's own failures, expressed as ``IOError`` so a connection reports every way it can end
/// through the one type `ConnectionHandler.didClose(_:)` receives. `call` names what gave up and why.
extension IOError {
    /// The loop has shut down and no longer accepts work or descriptors.
    static let loopShutDown = IOError(errno: ESHUTDOWN, call: "event loop (shut down)")

    /// Queued outgoing bytes would pass the hard cap; the connection was closed instead of growing.
    static func writeQueueOverflow(capBytes: Int) -> IOError {
        IOError(errno: ENOBUFS, call: "write (queue would pass its hard cap of \(capBytes) bytes)")
    }

    /// The group's outbound memory budget was exceeded and this connection was its slowest reader.
    static func outboundBudgetExceeded(limitBytes: Int) -> IOError {
        IOError(errno: ENOBUFS, call: "write (outbound memory budget of \(limitBytes) bytes exceeded: slowest reader closed)")
    }

    /// `close()` could not flush the queued bytes within the close timeout.
    static func closeTimedOut(unsentBytes: Int, afterMs: Int) -> IOError {
        IOError(errno: ETIMEDOUT, call: "close (\(unsentBytes) bytes unsent after \(afterMs) ms)")
    }

    /// A client connect did not complete within the connect timeout.
    static func connectTimedOut(afterMs: Int) -> IOError {
        IOError(errno: ETIMEDOUT, call: "connect (no answer within \(afterMs) ms)")
    }

    /// A host that is neither an IP literal nor `localhost`; the runtime does not resolve names.
    static func unsupportedHost(_ host: String) -> IOError {
        IOError(errno: EINVAL, call: "resolve \"\(host)\" (only IPv4/IPv6 literals and localhost)")
    }

    /// A port outside 0...65535.
    static func invalidPort(_ port: Int) -> IOError {
        IOError(errno: EINVAL, call: "resolve port \(port) (must be 0...65535)")
    }
}
