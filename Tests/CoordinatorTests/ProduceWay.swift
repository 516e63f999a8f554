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
        case .records: CoordClient(provider: ExtensionlessProvider(provider, refusing: [ProduceBatches.self]), store: store)
        }
    }
}

/// A provider in front of another that plays a server without some of coordd's requests: it refuses them
/// as such a server does, and counts every request opened through it by discriminator. Everything else goes
/// through.
struct ExtensionlessProvider: StreamProvider {
    /// How the refusal reads: an older coordd names it, a streamkit server sends only the text.
    enum Server: Sendable, CaseIterable {
        case coordd
        case streamkit
    }

    let wrapped: any StreamProvider
    let refused: Set<String>
    let server: Server
    private let counts = Counts()

    init(_ wrapped: any StreamProvider, refusing: [any RequestMessage.Type], as server: Server = .coordd) {
        self.wrapped = wrapped
        refused = Set(refusing.map { $0.discriminator })
        self.server = server
    }

    /// Streams opened (or refused) so far for requests of `type`.
    func opened(_ type: any RequestMessage.Type) -> Int {
        counts.value.withLock { $0[type.discriminator, default: 0] }
    }

    func callStream(store: WireUUID, request: [UInt8]) async throws(StreamsError) -> any BidiStream {
        if let message = try? Envelope.decode(request) {
            let discriminator = type(of: message).discriminator
            counts.value.withLock { $0[discriminator, default: 0] += 1 }
            if refused.contains(discriminator) {
                let text = "type \"\(discriminator)\" is not registered"
                let (client, server) = InProcessStream.pair()
                switch self.server {
                case .coordd: server.close(error: .invalidRequest(text))
                case .streamkit: server.close(error: StreamsError(.permanent, name: "remote_error", message: text))
                }
                return client
            }
        }
        return try await wrapped.callStream(store: store, request: request)
    }

    private final class Counts: Sendable {
        let value = Mutex<[String: Int]>([:])
    }
}
