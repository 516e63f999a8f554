import Dispatch
import Glibc
import Synchronization

/// Watches SIGTERM and SIGINT through Dispatch signal sources, so no code runs in a signal handler:
/// the first signal wakes ``first()``, every later one goes to the handler given to ``onLater(_:)``.
/// The signals' default actions are disabled while it lives.
final class SignalWatcher: @unchecked Sendable {
    // @unchecked: `sources` is written once in `init` and never changed; the sources are only touched
    // there and by Dispatch. Everything that changes is in `state`.
    private var sources: [any DispatchSourceSignal] = []
    private let state = Mutex(State())

    private struct State {
        var first: Int32?
        var waiter: CheckedContinuation<Int32, Never>?
        var later: (@Sendable (Int32) -> Void)?
        /// A later signal that arrived before `onLater` was called.
        var unhandled: Int32?
    }

    init(_ numbers: [Int32]) {
        let queue = DispatchQueue(label: "coordd-signals")
        sources = numbers.map { number in
            // Ignored at the process level so the signal reaches the source instead of ending the process.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in self?.deliver(number) }
            source.resume()
            return source
        }
    }

    /// Waits for the first signal and returns its number.
    func first() async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let received = state.withLock { s -> Int32? in
                if let first = s.first { return first }
                s.waiter = continuation
                return nil
            }
            if let received { continuation.resume(returning: received) }
        }
    }

    /// Calls `handler` with every signal after the first (at once for one that already arrived).
    func onLater(_ handler: @escaping @Sendable (Int32) -> Void) {
        let missed = state.withLock { s -> Int32? in
            s.later = handler
            defer { s.unhandled = nil }
            return s.unhandled
        }
        if let missed { handler(missed) }
    }

    private func deliver(_ number: Int32) {
        let (waiter, later) = state.withLock { s -> (CheckedContinuation<Int32, Never>?, (@Sendable (Int32) -> Void)?) in
            guard s.first == nil else {
                if s.later == nil { s.unhandled = number }
                return (nil, s.later)
            }
            s.first = number
            defer { s.waiter = nil }
            return (s.waiter, nil)
        }
        waiter?.resume(returning: number)
        later?(number)
    }

    /// `SIGTERM`, `SIGINT`, or the number.
    static func name(_ number: Int32) -> String {
        switch number {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        default: "signal \(number)"
        }
    }
}
