import CorePrimitives
import StreamCore
import Synchronization

/// One SubscribeToSegmentStatus stream's queue: at most one pending status per segment (the newest),
/// in the order segments first changed, bounded by `subscriptionQueueSegments` distinct segments.
///
/// Unlike streamkit (v1 §2.2), a status is never sent after a newer one for the same segment: each
/// segment's last sent sequence is remembered and older statuses are dropped.
final class SegmentSubscriber: Sendable {
    struct Drained {
        var statuses: [SegmentStatus] = []
        var heartbeat = false
        var overloaded = false
    }

    private struct State {
        var order = RingBuffer<String>()
        var pending: [String: SegmentStatus] = [:]
        var delivered: [String: UInt64] = [:]
        var heartbeatDue = false
        var overloaded = false
    }

    let space: String
    /// An exact segment name, or `*`.
    let segment: String
    let wakeup = Wakeup()
    private let maxQueuedSegments: Int
    private let state = Mutex(State())

    init(space: String, segment: String, maxQueuedSegments: Int) {
        self.space = space
        self.segment = segment
        self.maxQueuedSegments = maxQueuedSegments
    }

    func wants(_ status: SegmentStatus) -> Bool {
        status.space == space && (segment == "*" || segment == status.segment)
    }

    /// Queues a live status; a subscriber whose queue would pass its bound is marked overloaded.
    func offer(_ status: SegmentStatus) {
        let wake = state.withLock { s -> Bool in
            guard !s.overloaded, status.lastSequence > s.delivered[status.segment, default: 0] else { return false }
            if let queued = s.pending[status.segment] {
                if status.lastSequence > queued.lastSequence { s.pending[status.segment] = status }
                return false
            }
            guard s.order.count < maxQueuedSegments else {
                s.overloaded = true
                return true
            }
            s.pending[status.segment] = status
            s.order.append(status.segment)
            return true
        }
        if wake { wakeup.signal() }
    }

    /// Records a status sent outside the queue (the snapshot), so older queued ones are dropped.
    func markDelivered(_ status: SegmentStatus) {
        state.withLock { s in
            s.delivered[status.segment] = max(s.delivered[status.segment, default: 0], status.lastSequence)
        }
    }

    func requestHeartbeat() {
        state.withLock { $0.heartbeatDue = true }
        wakeup.signal()
    }

    /// Takes everything due, in order, skipping what is no newer than what was already sent.
    func drain() -> Drained {
        state.withLock { s in
            var drained = Drained(heartbeat: s.heartbeatDue, overloaded: s.overloaded)
            s.heartbeatDue = false
            while let name = s.order.popFirst() {
                guard let status = s.pending.removeValue(forKey: name) else { continue }
                if status.lastSequence > s.delivered[name, default: 0] {
                    s.delivered[name] = status.lastSequence
                    drained.statuses.append(status)
                }
            }
            return drained
        }
    }
}

/// Routes committed statuses to the segment subscribers of one node. Publishing never blocks: it only
/// updates queues and signals their sender tasks.
final class SegmentSubscriptionHub: Sendable {
    private let subscribers = Mutex<[String: [ObjectIdentifier: SegmentSubscriber]]>([:])
    let limits: CoordinatorLimits

    init(limits: CoordinatorLimits) {
        self.limits = limits
    }

    func add(_ subscriber: SegmentSubscriber) {
        subscribers.withLock { $0[subscriber.space, default: [:]][ObjectIdentifier(subscriber)] = subscriber }
    }

    func remove(_ subscriber: SegmentSubscriber) {
        subscribers.withLock { all in
            all[subscriber.space]?[ObjectIdentifier(subscriber)] = nil
            if all[subscriber.space]?.isEmpty == true { all[subscriber.space] = nil }
        }
    }

    func publish(_ status: SegmentStatus) {
        let targets = subscribers.withLock { all in all[status.space].map { Array($0.values) } ?? [] }
        for subscriber in targets where subscriber.wants(status) { subscriber.offer(status) }
    }

    var count: Int { subscribers.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    func closeAll() {
        subscribers.withLock { $0 = [:] }
    }
}
