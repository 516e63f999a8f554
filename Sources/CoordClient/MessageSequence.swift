import StreamCore
import Transport

/// Messages of one server stream as an `AsyncSequence`: the stream opens on the first `next()` and
/// closes when the server ends it, when iteration stops early (the iterator is dropped), or when the
/// iterating task is cancelled. Errors arrive as ``StreamsError`` with their code.
public struct MessageSequence<Element: WireMessage>: AsyncSequence {
    public typealias Failure = StreamsError

    let open: @Sendable () async throws(StreamsError) -> any BidiStream

    /// Iterates the stream's messages.
    public func makeAsyncIterator() -> Iterator {
        Iterator(open: open)
    }

    /// The iterator; dropping it closes the stream.
    public struct Iterator: AsyncIteratorProtocol {
        private let holder: StreamHolder
        private let open: @Sendable () async throws(StreamsError) -> any BidiStream

        init(open: @escaping @Sendable () async throws(StreamsError) -> any BidiStream) {
            self.open = open
            holder = StreamHolder()
        }

        public mutating func next() async throws(StreamsError) -> Element? {
            if holder.finished { return nil }
            let stream: any BidiStream
            if let existing = holder.stream {
                stream = existing
            } else {
                stream = try await open()
                holder.stream = stream
            }
            do {
                guard let message = try await stream.receive(Element.self) else {
                    holder.finish()
                    return nil
                }
                return message
            } catch {
                holder.finish()
                throw error
            }
        }
    }
}

/// Owns a client stream and closes it when the last iterator copy goes away.
final class StreamHolder: @unchecked Sendable {
    // Invariant: only touched by the task iterating (iterators are not shared across tasks).
    var stream: (any BidiStream)?
    private(set) var finished = false

    func finish() {
        finished = true
        stream?.close(error: nil)
        stream = nil
    }

    deinit {
        stream?.close(error: nil)
    }
}
