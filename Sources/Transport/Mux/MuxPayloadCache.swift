import StreamCore
import Synchronization

/// The base64 text of recently sent large payloads, so one payload fanned out to many streams (an
/// inventory snapshot to every observer and worker) is encoded once instead of once per stream.
/// Encoding was a quarter of the daemon's CPU time in a fan-out of a 100-worker snapshot to 1,100
/// subscribers.
///
/// Entries are keyed by the identity of the payload's storage: an entry keeps its payload alive, so
/// no other live array can have that address, and an array sharing the storage holds the same bytes
/// (any change to it would first copy it elsewhere).
final class MuxPayloadCache: Sendable {
    /// Named bounds of the cache.
    struct Limits: Sendable {
        /// Payloads below this size are encoded on the spot: their encoding costs about what a lookup
        /// under the lock does, and they are rarely shared.
        var minimumPayloadBytes = 4 * 1024
        /// Payloads remembered, newest first: a few inventory revisions in flight at once.
        var entries = 8
        /// Bytes of payloads and their base64 held at most (a 10,000-worker snapshot and its text
        /// take about 3 MB).
        var maxBytes = 32 << 20
    }

    /// The process's cache, shared by every connection.
    static let shared = MuxPayloadCache()

    private struct Entry {
        var payload: [UInt8]
        var base64: [UInt8]
        var bytes: Int { payload.count + base64.count }
    }

    let limits: Limits
    private let entries = Mutex<[Entry]>([])

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Whether `payload` is large enough to go through the cache.
    func accepts(_ payload: [UInt8]) -> Bool { payload.count >= limits.minimumPayloadBytes }

    /// The padded standard base64 of `payload`: remembered when the same storage was encoded recently,
    /// else encoded now and remembered.
    func base64(of payload: [UInt8]) -> [UInt8] {
        let key = Self.address(payload)
        if let hit = entries.withLock({ list in list.first { Self.address($0.payload) == key && $0.payload.count == payload.count } }) {
            return hit.base64
        }
        let encoded = Base64.encodedStandard(payload)
        let entry = Entry(payload: payload, base64: encoded)
        guard entry.bytes <= limits.maxBytes else { return encoded }
        entries.withLock { list in
            guard !list.contains(where: { Self.address($0.payload) == key && $0.payload.count == payload.count }) else { return }
            list.insert(entry, at: 0)
            var total = list.reduce(0) { $0 + $1.bytes }
            while list.count > limits.entries || total > limits.maxBytes, let oldest = list.popLast() {
                total -= oldest.bytes
            }
        }
        return encoded
    }

    /// Payloads remembered now.
    var count: Int { entries.withLock { $0.count } }

    /// Bytes held now.
    var heldBytes: Int { entries.withLock { $0.reduce(0) { $0 + $1.bytes } } }

    private static func address(_ bytes: [UInt8]) -> UnsafeRawPointer? {
        bytes.withUnsafeBytes { $0.baseAddress }
    }
}
