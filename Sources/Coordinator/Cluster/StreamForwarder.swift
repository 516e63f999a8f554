import StreamCore
import Synchronization
import Transport

/// Serves a client's stream for a store another daemon owns: opens the same stream on the link to
/// the owner and copies messages both ways until both ends are done.
///
/// - **Flow control**: each direction holds at most the one message it is passing on; it reads the
///   next only once the send of this one returned, and a send suspends while the receiver's buffer is
///   full. A slow reader therefore holds up its own stream only, within the mux's per-stream bounds.
/// - **Ends**: a clean half-close and every error the owner or the client sends are passed on unchanged,
///   so typed errors (`sequence_gap`, `fence_mismatch`…) reach the client as the owner sent them. Ends of
///   the link itself (`stream_closed` when the connection breaks, `shutting_down` when the owner stops)
///   reach the client as `store_unavailable` naming the owner: transient, so the client reopens.
/// - A client that goes away ends the owner's stream as if it had been connected there.
public final class StreamForwarder: Sendable {
    private struct Forward {
        var store: WireUUID
        var client: any BidiStream
        var owner: any BidiStream
    }

    /// The links to the owners.
    public let links: ClusterLinks
    /// Told of each store whose forwarded stream failed to open or ended with a transient error.
    private let failed: @Sendable (WireUUID) -> Void
    private let tasks = OwnedTasks()
    private let active = Mutex<(forwards: [UInt64: Forward], nextID: UInt64)>(([:], 0))

    /// A forwarder over `links`; `failed` hears of each store whose forwarded stream could not be opened
    /// or whose owner ended it with a transient error (``StoreRouter/forwardFailed(_:)``).
    public init(links: ClusterLinks, failed: @escaping @Sendable (WireUUID) -> Void = { _ in }) {
        self.links = links
        self.failed = failed
    }

    /// Streams forwarded now, over every link.
    public var forwardedCount: Int { active.withLock { $0.forwards.count } }

    /// Forwards `stream` (its request already in it) to `peer`. Returns once the owner's stream is open,
    /// the copying running in a task of its own; throws, refusing the stream, when the owner cannot be
    /// reached or the link is full.
    public func forward(store: WireUUID, stream: any BidiStream, to peer: ClusterPeer) async throws(StreamsError) {
        try await forward(store: store, request: try await Self.request(of: stream), stream: stream, to: peer)
    }

    /// Forwards `stream`, whose request was read already, to `peer`; as above. When the link cannot carry
    /// it (the peer cannot be reached, or its limits are reached), throws `store_unavailable` having
    /// touched nothing of the stream, so the caller may still serve it elsewhere.
    func forward(store: WireUUID, request: [UInt8], stream: any BidiStream, to peer: ClusterPeer) async throws(StreamsError) {
        let (owner, slot): (any BidiStream, ClusterLinks.Slot)
        do {
            (owner, slot) = try await links.open(store: store, request: request, at: peer)
        } catch {
            failed(store)
            throw error
        }
        let id = active.withLock { a -> UInt64 in
            a.nextID += 1
            a.forwards[a.nextID] = Forward(store: store, client: stream, owner: owner)
            return a.nextID
        }
        let failed = self.failed
        let started = tasks.spawn {
            await Self.copy(client: stream, owner: owner, peer: peer, ownerFailed: { failed(store) })
            self.finish(id, slot)
        }
        if !started {
            owner.close(error: .shuttingDown)
            finish(id, slot)
            throw .shuttingDown
        }
    }

    /// The first message of `stream`, its request.
    static func request(of stream: any BidiStream) async throws(StreamsError) -> [UInt8] {
        guard let request = try await stream.receive() else {
            throw .invalidRequest("the stream ended before its request")
        }
        return request
    }

    /// Ends every stream forwarded for `store` with `store_unavailable` and `reason`: its route
    /// changed, and clients must reopen to reach the new owner.
    public func endForwarded(store: WireUUID, because reason: String) {
        end(.storeUnavailable(because: reason)) { $0.store == store }
    }

    /// Ends every forwarded stream with `shutting_down`, stops the copying and closes the links.
    public func stop() async {
        end(.shuttingDown) { _ in true }
        await tasks.cancelAndWait()
        await links.close()
    }

    private func end(_ error: StreamsError, where matches: (Forward) -> Bool) {
        let ending = active.withLock { $0.forwards.values.filter(matches) }
        for forward in ending {
            forward.client.close(error: error)
            forward.owner.close(error: error)
        }
    }

    private func finish(_ id: UInt64, _ slot: ClusterLinks.Slot) {
        _ = active.withLock { $0.forwards.removeValue(forKey: id) }
        links.release(slot)
    }

    /// Copies both ways until both directions ended, then closes both streams.
    private static func copy(client: any BidiStream, owner: any BidiStream, peer: ClusterPeer,
                             ownerFailed: @escaping @Sendable () -> Void) async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                // A client gone entirely (torn down, connection lost) ends the owner's stream, which may
                // otherwise wait forever for a subscriber that will never read. With an error, as the
                // client's lost connection would end it there: a clean end would read as the end of the
                // client's messages, and a produce would commit a partial chunk nobody asked to end.
                await client.waitClosed()
                owner.close(error: clientGone)
            }
            group.addTask {
                // A failed send means the owner's side ended: its end reaches the client through the
                // other direction, so nothing is closed here.
                await pump(from: client, to: owner, translate: { $0 }, destinationGone: {})
            }
            await pump(from: owner, to: client, translate: { error in
                if error.code == .transient { ownerFailed() }
                return fromOwner(error, peer)
            }, destinationGone: { owner.close(error: clientGone) })
            // The owner is done: once it has ended both ways, so is the client's stream.
            await owner.waitClosed()
            client.close(error: nil)
        }
    }

    /// What the owner's stream ends with when the client's stream here ended before it.
    static let clientGone = StreamsError.streamClosed("the client's stream on the forwarding daemon ended")

    /// Passes messages from `source` to `destination` one at a time, then `source`'s end.
    private static func pump(
        from source: any BidiStream, to destination: any BidiStream, translate: (StreamsError) -> StreamsError,
        destinationGone: () -> Void
    ) async {
        while true {
            let message: [UInt8]?
            do throws(StreamsError) {
                message = try await source.receive()
            } catch {
                destination.closeSend(error: translate(error))
                return
            }
            guard let message else {
                destination.closeSend(error: nil)
                return
            }
            do throws(StreamsError) {
                try await destination.send(message)
            } catch {
                destinationGone()
                return
            }
        }
    }

    /// The error the client gets for the owner's stream ending with `error`: unchanged, except the ends
    /// of the link itself, which say the store is unavailable here for now.
    static func fromOwner(_ error: StreamsError, _ peer: ClusterPeer) -> StreamsError {
        guard error.code == .transient, error.name == "stream_closed" || error.name == StreamsError.shuttingDown.name else {
            return error
        }
        return .storeUnavailable(because: "the link to its owner, \(peer), ended: \(error.message)")
    }
}
