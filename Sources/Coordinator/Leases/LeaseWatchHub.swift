import LeaseEngine
import StreamCore
import Synchronization

/// The shell of ``LeaseWatchRegistry`` for one store: the registry, and the mailbox of every watcher it
/// names. Registration and publishing happen under the lease engine's lock (this lock is always taken
/// inside it), so a watcher's first state and every later change come in the engine's order.
final class LeaseWatchHub: Sendable {
    private struct State {
        var registry: LeaseWatchRegistry
        var mailboxes: [UInt64: LeaseWatchMailbox] = [:]
    }

    private let state: Mutex<State>

    init(limits: LeaseWatchLimits, maxKeyBytes: Int) {
        state = Mutex(State(registry: LeaseWatchRegistry(limits: limits, maxKeyBytes: maxKeyBytes)))
    }

    /// Registers a watcher of `key` whose lease is `current`; its mailbox holds the first event.
    func watch(key: String, current: LeaseGrant?, event: (LeaseWatchChange) -> LeaseWatchEvent)
        throws(StreamsError) -> LeaseWatchMailbox
    {
        let result = state.withLock { s -> Result<LeaseWatchMailbox, LeaseWatchRejection> in
            switch s.registry.watch(key: key, current: current) {
            case .failure(let rejection):
                return .failure(rejection)
            case .success(let (watcher, first)):
                let mailbox = LeaseWatchMailbox(id: watcher)
                mailbox.offer(event(first))
                s.mailboxes[watcher] = mailbox
                return .success(mailbox)
            }
        }
        switch result {
        case .success(let mailbox):
            return mailbox
        case .failure(.invalid(let message)):
            throw .invalidRequest(message)
        case .failure(.tooManyWatchers(let limit)):
            throw .limitExceeded("lease watchers per store exceed maximum of \(limit)")
        }
    }

    /// Forgets a watcher whose stream ended.
    func unwatch(_ mailbox: LeaseWatchMailbox) {
        state.withLock { s in
            s.registry.unwatch(mailbox.id)
            s.mailboxes[mailbox.id] = nil
        }
    }

    /// Tells the watchers of each event's key what changed. `current` gives a key's lease after the events.
    func publish(_ events: [LeaseEvent], current: (String) -> LeaseGrant?, event: (LeaseWatchChange) -> LeaseWatchEvent) {
        state.withLock { s in
            guard s.registry.watcherCount > 0 else { return }
            for leaseEvent in events {
                guard let notification = s.registry.notification(for: leaseEvent, current: current(leaseEvent.key)) else {
                    continue
                }
                let message = event(notification.change)
                for watcher in notification.watchers { s.mailboxes[watcher]?.offer(message) }
            }
        }
    }

    /// Watchers now (for tests and metrics).
    var count: Int { state.withLock { $0.registry.watcherCount } }
}

/// One watcher's pending event: a single slot where a newer event replaces an older one not yet sent
/// (latest wins), so a slow watcher costs one event however much changes.
final class LeaseWatchMailbox: Sendable {
    let id: UInt64
    let wakeup = Wakeup()
    private let pending = Mutex<LeaseWatchEvent?>(nil)

    init(id: UInt64) { self.id = id }

    func offer(_ event: LeaseWatchEvent) {
        pending.withLock { $0 = event }
        wakeup.signal()
    }

    /// The pending event, taken out of the slot.
    func take() -> LeaseWatchEvent? {
        pending.withLock { slot in
            defer { slot = nil }
            return slot
        }
    }
}
