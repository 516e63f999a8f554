import Foundation
import Synchronization

/// Makes the log's next write or flush fail, so tests can drive the fault paths without a full disk.
///
/// Internal on purpose: tests reach it through `@testable import`; nothing else can arm it.
final class LogFaultInjector: Sendable {
    /// Which operation a fault hits.
    enum Operation: Sendable, Hashable {
        /// The `pwrite` of a batch or of a new file's header. An armed write fault first writes half
        /// the buffer, as a disk that fills up mid-write does, then fails.
        case write
        /// The `fdatasync` after a write.
        case sync
    }

    private let armed = Mutex<[Operation: Int32]>([:])
    /// Whether the writer is held before its next step, and whether it is waiting there.
    private let gate = Mutex<(held: Bool, waiting: Bool)>((false, false))
    private let gateOpened = DispatchSemaphore(value: 0)

    /// Makes the next `operation` fail with `errno`.
    func arm(_ operation: Operation, errno: Int32) {
        armed.withLock { $0[operation] = errno }
    }

    /// Throws (once) the fault armed for `operation`, if any.
    func check(_ operation: Operation) throws(IOError) {
        if let errno = take(operation) {
            throw IOError(errno: errno, call: operation == .write ? "pwrite" : "fdatasync")
        }
    }

    /// Removes and returns the errno armed for `operation`.
    func take(_ operation: Operation) -> Int32? {
        armed.withLock { $0.removeValue(forKey: operation) }
    }

    /// Holds the writer before it takes its next batch, so appends pile up in the queue.
    func holdWriter() {
        gate.withLock { $0.held = true }
    }

    /// Lets a held writer go on.
    func releaseWriter() {
        let wasWaiting = gate.withLock { state -> Bool in
            defer { state = (false, false) }
            return state.waiting
        }
        if wasWaiting { gateOpened.signal() }
    }

    /// Called by the writer before each step: waits while the writer is held.
    func passGate() {
        let wait = gate.withLock { state -> Bool in
            if state.held { state.waiting = true }
            return state.held
        }
        if wait { gateOpened.wait() }
    }
}
