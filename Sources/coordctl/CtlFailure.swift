import CoordClient
import StreamCore

/// coordctl's exit statuses, as its help lists them.
enum CtlExit {
    /// The command did what it was asked.
    static let ok: Int32 = 0
    /// The daemon answered with an error (its name and text go to standard error).
    static let daemonError: Int32 = 1
    /// The command line is wrong.
    static let usage: Int32 = 2
    /// The daemon could not be reached, or the connection to it was lost.
    static let unreachable: Int32 = 3
}

/// How coordctl reports a failed command: the error's name and text, a hint when the cause is a common
/// mistake, and the exit status that tells a script whether the daemon answered.
enum CtlFailure {
    /// Writes `error` (with a hint for a connection failure) and returns the exit status.
    static func report(_ error: StreamsError, server: String, output: any CtlOutput) -> Int32 {
        output.writeError("error: \(error.name): \(error.message)\n")
        guard isUnreachable(error) else {
            if error.message.contains("certificate required") {
                output.writeError("hint: the daemon requires a client certificate: pass --cert-file and --key-file\n")
            }
            return CtlExit.daemonError
        }
        if let hint = hint(for: error.message, server: server) { output.writeError("hint: \(hint)\n") }
        return CtlExit.unreachable
    }

    /// True when the error means no answer came from the daemon: the connection could not be made or was
    /// lost. A refused upgrade, refused credentials or a TLS alert the daemon sent (a client certificate it
    /// requires) are answers.
    static func isUnreachable(_ error: StreamsError) -> Bool {
        guard case .connectionFailed(let name, let message) = CoordError(error) else { return false }
        return name == StreamsError.streamClosed().name && !message.contains(" alert ")
    }

    /// What to try, for the failures people run into when pointing coordctl at a daemon.
    static func hint(for message: String, server: String) -> String? {
        if message.contains("certificate verify failed") || message.contains("verification failed") {
            return "the daemon's certificate is not trusted: pass the CA that signed it with --ca-file FILE"
        }
        if message.contains("wrong version number") || message.contains("packet length too long") {
            return "the daemon does not speak TLS on that port: use ws:// instead of wss://"
        }
        if server.hasPrefix("ws://") && message.contains("during the WebSocket handshake") {
            return "the daemon may be serving TLS on that port: use wss:// (with --ca-file for a private CA)"
        }
        if message.contains("Connection refused") {
            return "nothing listens at \(server): is coordd running, and is --server (or its --listen) right?"
        }
        if message.contains("cannot resolve") || message.contains("Name or service not known") {
            return "the host name in --server \(server) does not resolve"
        }
        return nil
    }
}
