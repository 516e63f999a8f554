import StreamCore
import Transport

/// Messages of one server stream as an `AsyncSequence`: the stream opens on the first `next()` and
/// closes when the server ends it, when iteration stops early (the iterator is dropped), or when the
/// iterating task is cancelled. Errors arrive as ``StreamsError`` with their code.
///
/// A resumable sequence (worker inventory changes over a provider that reconnects) does not end when
/// a lost connection ends its stream: it opens a new one that continues after the last message.
public struct MessageSequence<Element: WireMessage>: AsyncSequence, Sendable {
    public typealias Failure = StreamsError

    /// How a resumable sequence opens its next stream: from the last message it yielded (nil before
    /// the first).
    struct Resume: Sendable {
        let reopener: StreamReopener
        let open: @Sendable (Element?) async throws(StreamsError) -> any BidiStream
    }

    let open: @Sendable () async throws(StreamsError) -> any BidiStream
    let resume: Resume?

    init(open: @escaping @Sendable () async throws(StreamsError) -> any BidiStream, resume: Resume? = nil) {
        self.open = open
        self.resume = resume
    }

    /// Iterates the stream's messages.
    public func makeAsyncIterator() -> Iterator {
        Iterator(open: open, resume: resume)
    }

    /// The iterator; dropping it closes the stream.
    public struct Iterator: AsyncIteratorProtocol {
        private let holder: StreamHolder
        private let open: @Sendable () async throws(StreamsError) -> any BidiStream
        private let resume: Resume?
        private var last: Element?

        init(open: @escaping @Sendable () async throws(StreamsError) -> any BidiStream, resume: Resume?) {
            self.open = open
            self.resume = resume
            holder = StreamHolder()
        }

        public mutating func next() async throws(StreamsError) -> Element? {
            while true {
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
                    last = message
                    return message
                } catch {
                    guard let resume, error.isTransient, error != .cancelled, !Task.isCancelled else {
                        holder.finish()
                        throw error
                    }
                    stream.close(error: nil)
                    holder.stream = nil
                    let after = last
                    switch await resume.reopener.reopen(isAbandoned: { false }, { () throws(StreamsError) in try await resume.open(after) }) {
                    case .success(let fresh):
                        holder.stream = fresh
                    case .failure(let failure):
                        holder.finish()
                        throw failure
                    }
                }
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
