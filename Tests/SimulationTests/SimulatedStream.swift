import StreamCore
import Synchronization
import Transport

/// The stream a simulated client hands the node: it takes whatever the node sends and records how the
/// node ended it (a worker replaced or evicted), so the simulation can check the reason.
final class SimulatedStream: BidiStream {
    private let ending = Mutex<StreamsError??>(nil)

    func send(_ message: [UInt8]) async throws(StreamsError) {
        if isClosed { throw .streamClosed("the simulated stream is closed") }
    }

    func offer(_ message: [UInt8]) -> Bool { !isClosed }

    func receive() async throws(StreamsError) -> [UInt8]? { nil }

    func closeSend(error: StreamsError?) {}

    func close(error: StreamsError?) {
        ending.withLock { if $0 == nil { $0 = .some(error) } }
    }

    func waitClosed() async {}

    var isClosed: Bool { ending.withLock { $0 != nil } }

    /// The simulation's clients send nothing on their streams: they call the node's services directly.
    var arrivals: UInt64 { 0 }

    /// How the stream ended: nil while open, `.some(nil)` for a clean end.
    var endedWith: StreamsError?? { ending.withLock { $0 } }
}
