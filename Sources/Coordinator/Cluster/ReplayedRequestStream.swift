import StreamCore
import Synchronization
import Transport

/// A stream whose first message, the request, was read already and is read again: for a stream that was
/// to be forwarded and is served here after all (its preferred daemon could not be reached).
final class ReplayedRequestStream: BidiStream {
    private let stream: any BidiStream
    private let request: Mutex<[UInt8]?>

    init(_ request: [UInt8], then stream: any BidiStream) {
        self.stream = stream
        self.request = Mutex(request)
    }

    func receive() async throws(StreamsError) -> [UInt8]? {
        if let request = request.withLock({ r -> [UInt8]? in defer { r = nil }; return r }) { return request }
        return try await stream.receive()
    }

    func send(_ message: [UInt8]) async throws(StreamsError) { try await stream.send(message) }
    func offer(_ message: [UInt8]) -> Bool { stream.offer(message) }
    func offer(contentsOf messages: [[UInt8]]) -> Int { stream.offer(contentsOf: messages) }
    func closeSend(error: StreamsError?) { stream.closeSend(error: error) }
    func close(error: StreamsError?) { stream.close(error: error) }
    func waitClosed() async { await stream.waitClosed() }
    var isClosed: Bool { stream.isClosed }
    var arrivals: UInt64 { stream.arrivals }
}
