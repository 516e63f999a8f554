import StreamCore
import Synchronization

/// One connection closed to bring the held bytes back under the budget: what its peer is told. The
/// close is reported as a ``RuntimeEvent/slowConnectionClosed(_:)`` too.
public struct OutboundBudgetClose: Sendable, Hashable {
    /// The peer.
    public var remoteAddress: SocketAddress?
    /// Bytes the connection held in its write queue (as the budget counts them) when it was chosen.
    public var queuedBytes: Int
    /// How long its peer had taken no bytes while some were waiting, in milliseconds.
    public var stalledMs: Int64
    /// Bytes held for all connections when it was chosen, and the limit.
    public var heldBytes: Int
    public var limitBytes: Int

    /// The close reason the peer is sent (fits the 123 bytes of a WebSocket close frame).
    public var reason: String {
        "outbound memory budget of \(limitBytes) bytes exceeded: slowest reader, nothing read for \(stalledMs) ms"
    }
}

/// The daemon-wide budget of outgoing bytes held for clients: the sum over every accepted connection of
/// the bytes in its write queue (``RuntimeLimits/maxOutboundBytes``).
///
/// Each connection bounds its own queue (``RuntimeLimits/writeQueueHardCapBytes``); this bounds them
/// together, so clients that never read (pings answered, errors, snapshots) cannot take the daemon's
/// memory between them. Past the limit the slowest connection is closed, then the next, until the held
/// bytes are back under it; the others are not touched.
///
/// How bytes are counted: each queued buffer costs its size plus ``RuntimeLimits/queuedBufferOverheadBytes``
/// (a flood of 137-byte pongs costs about that much again in array headers and allocator rounding). A
/// buffer of at least ``RuntimeLimits/sharedBufferMinimumBytes`` is counted once however many queues
/// hold it: such buffers are the payloads fanned out to many connections (one inventory snapshot to
/// every observer), which share one allocation, and counting them per connection would count memory
/// that does not exist and close healthy readers during an ordinary fan-out. Smaller buffers are
/// counted per connection (they are per-connection frames).
///
/// The slowest connection is the one whose peer has gone longest without taking any byte while bytes
/// were waiting for it; between equally stalled ones, the one holding more.
///
/// Thread-safe: connections on every loop of a group charge the same budget. A connection is closed on
/// its own loop.
public final class OutboundBudget: Sendable {
    /// The limit in bytes.
    public let limitBytes: Int
    let overheadBytes: Int
    let sharedMinimumBytes: Int
    private let held = Atomic<Int>(0)
    private let closes = Atomic<Int>(0)
    /// True while a chosen connection is being closed: one close at a time, so the next choice sees what
    /// the previous one freed.
    private let reclaiming = Atomic<Bool>(false)
    /// Storage address of a large buffer → how many queued copies of it are charged.
    private let sharedBuffers = Mutex<[UInt: Int]>([:])
    private let members = Mutex<[ObjectIdentifier: TCPConnection]>([:])

    init(limits: RuntimeLimits) {
        limitBytes = limits.maxOutboundBytes
        overheadBytes = limits.queuedBufferOverheadBytes
        sharedMinimumBytes = limits.sharedBufferMinimumBytes
    }

    /// Bytes held for all connections now.
    public var heldBytes: Int { held.load(ordering: .relaxed) }

    /// Connections closed so far because the budget was exceeded.
    public var closeCount: Int { closes.load(ordering: .relaxed) }


    // MARK: Connections

    /// What one queued buffer costs its connection.
    func cost(of buffer: [UInt8]) -> Int { buffer.count + overheadBytes }

    func join(_ connection: TCPConnection) {
        members.withLock { $0[ObjectIdentifier(connection)] = connection }
    }

    func leave(_ connection: TCPConnection) {
        _ = members.withLock { $0.removeValue(forKey: ObjectIdentifier(connection)) }
    }

    /// A buffer entered a write queue.
    func charge(_ buffer: [UInt8]) {
        if buffer.count >= sharedMinimumBytes {
            let first = sharedBuffers.withLock { map -> Bool in
                let key = Self.address(buffer)
                map[key, default: 0] += 1
                return map[key] == 1
            }
            guard first else { return }
        }
        held.add(cost(of: buffer), ordering: .relaxed)
    }

    /// A buffer left a write queue (written, or dropped).
    func release(_ buffer: [UInt8]) {
        if buffer.count >= sharedMinimumBytes {
            let last = sharedBuffers.withLock { map -> Bool in
                let key = Self.address(buffer)
                let remaining = (map[key] ?? 1) - 1
                map[key] = remaining > 0 ? remaining : nil
                return remaining == 0
            }
            guard last else { return }
        }
        held.subtract(cost(of: buffer), ordering: .relaxed)
    }

    /// When over the limit, closes the slowest connection (on its loop), and once it is closed checks
    /// again. Callable from any thread; does nothing while a close is under way.
    func reclaimIfOver() {
        guard held.load(ordering: .relaxed) > limitBytes,
              !reclaiming.exchange(true, ordering: .acquiringAndReleasing)
        else { return }
        let nowMs = SystemMonotonicClock().nowMs()
        guard let victim = slowest(nowMs: nowMs) else {
            reclaiming.store(false, ordering: .releasing)
            return
        }
        leave(victim.connection)
        let close = OutboundBudgetClose(
            remoteAddress: victim.connection.remoteAddress, queuedBytes: victim.queued, stalledMs: victim.stalledMs,
            heldBytes: held.load(ordering: .relaxed), limitBytes: limitBytes)
        let accepted = victim.connection.execute { [self] connection in
            connection.shedForOutboundBudget(close)
            closes.add(1, ordering: .relaxed)
            connection.loop.events.report(.slowConnectionClosed(SlowConnectionClose(
                peer: close.remoteAddress, reason: .outboundBudget, queuedBytes: close.queuedBytes,
                limitBytes: close.limitBytes, stalledMs: close.stalledMs)))
            finishReclaim()
        }
        if !accepted { finishReclaim() }
    }

    private func finishReclaim() {
        reclaiming.store(false, ordering: .releasing)
        reclaimIfOver()
    }

    /// The connection to close first: stalled longest, then holding most. Nil when none holds bytes.
    private func slowest(nowMs: Int64) -> (connection: TCPConnection, queued: Int, stalledMs: Int64)? {
        let candidates = members.withLock { Array($0.values) }
        var best: (connection: TCPConnection, queued: Int, since: Int64)?
        for connection in candidates {
            let queued = connection.budgetQueuedBytes.load(ordering: .relaxed)
            let since = connection.stalledSinceMs.load(ordering: .relaxed)
            guard queued > 0 else { continue }
            if let current = best, (current.since, -current.queued) <= (since, -queued) { continue }
            best = (connection, queued, since)
        }
        return best.map { ($0.connection, $0.queued, max(0, nowMs - $0.since)) }
    }

    private static func address(_ buffer: [UInt8]) -> UInt {
        // Large buffers are never empty, so the address exists; a queued copy keeps the storage alive,
        // so no other live buffer can have the same address.
        buffer.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
    }
}
