import CoordClient
import StreamCore
import Synchronization
import Transport

/// How a test's records reach the daemon: on coordd's `produce_batches` stream, as the SDK sends them, or
/// one per message on a `Produce` stream, as streamkit's clients do (the SDK against a server that refuses
/// `produce_batches`).
enum ProduceWay: String, CaseIterable, Sendable, CustomStringConvertible {
    case batches
    case records

    var description: String { rawValue }
}

extension Harness {
    /// A client producing `way`.
    func client(producing way: ProduceWay) -> CoordClient {
        switch way {
        case .batches: client
        case .records: CoordClient(provider: ProduceStreamProvider(provider, refusingBatches: true), store: store)
        }
    }
}

/// A provider in front of another that counts the produce streams opened through it, by kind, and, when
/// `refusingBatches`, answers `produce_batches` as a server without the extension does: the stream ends
/// with `invalid_request`. Every other request goes through.
struct ProduceStreamProvider: StreamProvider {
    let wrapped: any StreamProvider
    let refusingBatches: Bool
    private let counts = Counts()

    init(_ wrapped: any StreamProvider, refusingBatches: Bool) {
        self.wrapped = wrapped
        self.refusingBatches = refusingBatches
    }

    /// `produce_batches` streams opened (or refused) so far.
    var batchStreams: Int { counts.batches.load(ordering: .relaxed) }
    /// `Produce` streams opened so far.
    var recordStreams: Int { counts.records.load(ordering: .relaxed) }

    func callStream(store: WireUUID, request: [UInt8]) async throws(StreamsError) -> any BidiStream {
        switch try? Envelope.decode(request) {
        case is ProduceBatches:
            counts.batches.add(1, ordering: .relaxed)
            guard refusingBatches else { break }
            let (client, server) = InProcessStream.pair()
            server.close(error: .invalidRequest("type \"\(ProduceBatches.discriminator)\" is not registered"))
            return client
        case is Produce:
            counts.records.add(1, ordering: .relaxed)
        default:
            break
        }
        return try await wrapped.callStream(store: store, request: request)
    }

    private final class Counts: Sendable {
        let batches = Atomic<Int>(0)
        let records = Atomic<Int>(0)
    }
}
