import StreamCore
import Synchronization
import Transport

/// A registered worker: renews its presence in the background until `close()`, and fails when the
/// server ends the stream (replaced, evicted) or nothing arrives for 3 × the heartbeat interval.
///
/// Over a provider that reconnects on its own, a lost connection, a server shutting down or 3 × the
/// heartbeat interval of silence does not end it: the worker registers again on a new stream as soon
/// as the server can be reached.
public final class WorkerRegistration: Sendable {
    /// The worker's id.
    public let workerID: WireUUID
    /// The inventories this worker receives (it is an observer too, unless it registered presence-only).
    public let inventories: InventoryUpdates
    private let renewer: Task<Void, Never>
    private let liveness: Liveness

    /// When the last message arrived, and how the registration ended.
    private final class Liveness: Sendable {
        let lastArrivalMs: Atomic<Int64>
        let outcome = Mutex<StreamsError??>(nil)

        init(nowMs: Int64) { lastArrivalMs = Atomic(nowMs) }

        func settle(_ error: StreamsError?) {
            outcome.withLock { if $0 == nil { $0 = .some(error) } }
        }
    }

    init(workerID: WireUUID, stream: any BidiStream, intervalMs: Int64, clock: any MonotonicClock,
         wallClock: any WallClock = SystemWallClock(), reopener: StreamReopener? = nil,
         reopen: (@Sendable () async throws(StreamsError) -> any BidiStream)? = nil,
         connectionChanges: (@Sendable (ConnectionChange) -> Void)? = nil) {
        self.workerID = workerID
        let liveness = Liveness(nowMs: clock.nowMs())
        self.liveness = liveness
        let arrived: @Sendable () -> Void = { liveness.lastArrivalMs.store(clock.nowMs(), ordering: .releasing) }
        let inventories = InventoryUpdates(
            stream: stream, reopener: reopener, reopen: reopen, onMessage: { _ in arrived() }, onReopen: arrived,
            connectionChanges: connectionChanges)
        self.inventories = inventories
        renewer = Task {
            // What the transport has received, read or not: on a busy machine the reader may not have
            // run for a while, and its backlog is no silence.
            var seen: (stream: ObjectIdentifier, arrivals: UInt64)?
            while !Task.isCancelled {
                let stream = inventories.stream
                let now = (stream: ObjectIdentifier(stream), arrivals: stream.arrivals)
                if let seen, seen != now { arrived() }
                seen = now
                let silence = clock.nowMs() - liveness.lastArrivalMs.load(ordering: .acquiring)
                if silence > 3 * intervalMs && !inventories.isReconnecting {
                    let error = StreamsError.streamClosed("worker heartbeat lost after \(silence) ms")
                    guard inventories.reopens else {
                        liveness.settle(error)
                        inventories.close()
                        return
                    }
                    // Register again on a new stream rather than give up: the silence may be a stalled
                    // connection or process, not a server that dropped the worker.
                    liveness.lastArrivalMs.store(clock.nowMs(), ordering: .releasing)
                    inventories.abandonSilentStream(error)
                }
                do {
                    try await inventories.stream.sendEnveloped(
                        Presence(workerID: workerID, heartbeat: false, timestamp: wallClock.nowMs()))
                } catch {
                    // A stream being replaced after a reconnect fails its sends; the next one takes them.
                    if inventories.latest.hasEnded { return }
                }
                // On the injected clock, like the silence above: nothing wakes the renewer early (a
                // close cancels it), so a plain sleep to the next renewal is the whole timer.
                do {
                    try await clock.sleep(untilMs: clock.nowMs() + intervalMs)
                } catch {
                    return
                }
            }
        }
    }

    /// Deregisters: ends the stream (the server removes the worker and tells observers).
    public func close() {
        liveness.settle(nil)
        renewer.cancel()
        inventories.close()
    }

    /// Waits until the registration ends; returns why (nil after `close()`).
    public func waitUntilEnded() async -> StreamsError? {
        let streamError = await inventories.latest.waitEnded()
        liveness.settle(streamError)
        return liveness.outcome.withLock { $0 ?? nil }
    }

    deinit {
        renewer.cancel()
    }
}
