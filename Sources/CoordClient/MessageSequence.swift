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

    /// How a message that may carry several elements is read (a batched read's ``EntryBatch`` or bare
    /// entry); nil when each message is one element.
    typealias Unpack = @Sendable ([UInt8]) throws(StreamsError) -> [Element]

    let open: @Sendable () async throws(StreamsError) -> any BidiStream
    let resume: Resume?
    let unpack: Unpack?

    init(open: @escaping @Sendable () async throws(StreamsError) -> any BidiStream, resume: Resume? = nil,
         unpack: Unpack? = nil) {
        self.open = open
        self.resume = resume
        self.unpack = unpack
    }

    /// Iterates the stream's messages.
    public func makeAsyncIterator() -> Iterator {
        Iterator(open: open, resume: resume, unpack: unpack)
    }

    /// The iterator; dropping it closes the stream.
    public struct Iterator: AsyncIteratorProtocol {
        private let holder: StreamHolder
        private let open: @Sendable () async throws(StreamsError) -> any BidiStream
        private let resume: Resume?
        private let unpack: Unpack?
        private var last: Element?
        /// Elements of the last message not yet returned.
        private var pending: ArraySlice<Element> = []

        init(open: @escaping @Sendable () async throws(StreamsError) -> any BidiStream, resume: Resume?, unpack: Unpack?) {
            self.open = open
            self.resume = resume
            self.unpack = unpack
            holder = StreamHolder()
        }

        public mutating func next() async throws(StreamsError) -> Element? {
            while true {
                if let element = pending.popFirst() {
                    last = element
                    return element
                }
                if holder.finished { return nil }
                let stream: any BidiStream
                if let existing = holder.stream {
                    stream = existing
                } else {
                    stream = try await open()
                    holder.stream = stream
                }
                do {
                    if let unpack {
                        guard let message = try await stream.receive() else {
                            holder.finish()
                            return nil
                        }
                        pending = try unpack(message)[...]
                        continue
                    }
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
