/// Who watches which lease key: turns the engine's lease events into notifications for the watchers of the
/// key they are about, so waiters and election observers are told of a release, an expiry or a new holder
/// the moment the engine decides it.
///
/// Pure, like the engine: the shell registers a watcher under the engine's lock with the key's current
/// lease, hands every event the engine returns to ``notification(for:current:)`` under the same lock, and
/// delivers what comes back. Only changes of holder are reported: a renewal, or a same-holder re-acquire
/// that keeps its token, changes nothing a watcher waits for.
public struct LeaseWatchRegistry: Sendable {
    /// The bounds this registry enforces.
    public let limits: LeaseWatchLimits
    /// The longest key accepted (the engine's own bound, so a watch names only keys a lease could have).
    public let maxKeyBytes: Int

    /// The watched keys, with their watchers and the state last reported to them.
    private var watched: [LeaseKey: WatchedKey] = [:]
    /// The key each watcher watches.
    private var keyByWatcher: [UInt64: LeaseKey] = [:]
    private var lastWatcher: UInt64 = 0

    private struct WatchedKey {
        var watchers: Set<UInt64> = []
        /// The token of the lease last reported held, nil while the key was last reported free.
        var heldToken: UInt64?
    }

    /// Creates an empty registry for keys of at most `maxKeyBytes` bytes.
    public init(limits: LeaseWatchLimits = LeaseWatchLimits(), maxKeyBytes: Int = LeaseLimits().maxKeyBytes) {
        precondition(limits.maxWatchers > 0, "LeaseWatchLimits.maxWatchers must be positive")
        self.limits = limits
        self.maxKeyBytes = maxKeyBytes
    }

    /// The number of watchers.
    public var watcherCount: Int { keyByWatcher.count }

    /// Registers a watcher of `key`, whose lease is `current` now (nil when free). Returns the watcher's id
    /// and the first change to send it, or why it was refused.
    public mutating func watch(key: String, current: LeaseGrant?) -> Result<(watcher: UInt64, first: LeaseWatchChange), LeaseWatchRejection> {
        if key.isEmpty { return .failure(.invalid(LeaseMessages.emptyKey)) }
        if key.utf8.count > maxKeyBytes { return .failure(.invalid(LeaseMessages.keyTooLong(maxKeyBytes))) }
        guard keyByWatcher.count < limits.maxWatchers else { return .failure(.tooManyWatchers(limits.maxWatchers)) }
        let leaseKey = LeaseKey(key)
        lastWatcher += 1
        keyByWatcher[lastWatcher] = leaseKey
        var entry = watched[leaseKey] ?? WatchedKey()
        if entry.watchers.isEmpty { entry.heldToken = current?.token }
        entry.watchers.insert(lastWatcher)
        watched[leaseKey] = entry
        return .success((lastWatcher, .current(key: key, lease: current)))
    }

    /// Forgets a watcher (its stream ended). Unknown ids are ignored.
    public mutating func unwatch(_ watcher: UInt64) {
        guard let leaseKey = keyByWatcher.removeValue(forKey: watcher) else { return }
        watched[leaseKey]?.watchers.remove(watcher)
        if watched[leaseKey]?.watchers.isEmpty == true { watched[leaseKey] = nil }
    }

    /// The notification an engine event makes, or nil when nobody watches its key or nothing a watcher
    /// waits for changed. `current` is the key's lease after the event, as the engine holds it (it gives a
    /// grant its deadline; nil when the grant's TTL has already run out).
    public mutating func notification(for event: LeaseEvent, current: LeaseGrant?) -> LeaseWatchNotification? {
        let leaseKey = LeaseKey(event.key)
        guard var entry = watched[leaseKey] else { return nil }
        let change: LeaseWatchChange
        switch event {
        case let .granted(key, holder, token, ttlMs, boundTo):
            if entry.heldToken == token { return nil }
            entry.heldToken = token
            let deadline = current?.token == token ? current?.deadline : nil
            change = .granted(LeaseGrant(key: key, holder: holder, token: token, ttlMs: ttlMs, deadline: deadline, boundTo: boundTo))
        case let .released(key, holder, token):
            entry.heldToken = nil
            change = .released(key: key, holder: holder, token: token)
        case let .expired(key, token):
            entry.heldToken = nil
            change = .expired(key: key, token: token)
        }
        watched[leaseKey] = entry
        return LeaseWatchNotification(watchers: entry.watchers.sorted(), change: change)
    }
}

/// What a watcher is told about its key.
public enum LeaseWatchChange: Sendable, Hashable {
    /// The key's state when the watch began: its live lease, or nil when it is free.
    case current(key: String, lease: LeaseGrant?)
    /// A new lease was granted (a new holder, or a holder whose previous lease had ended).
    case granted(LeaseGrant)
    /// The lease carrying `token` was released by `holder`, or ended with the worker it was bound to.
    case released(key: String, holder: String, token: UInt64)
    /// The lease carrying `token` passed its deadline.
    case expired(key: String, token: UInt64)
}

/// A change and the watchers to tell, in ascending id order.
public struct LeaseWatchNotification: Sendable, Hashable {
    /// The watchers of the change's key.
    public var watchers: [UInt64]
    /// The change.
    public var change: LeaseWatchChange

    /// Creates a notification.
    public init(watchers: [UInt64], change: LeaseWatchChange) {
        self.watchers = watchers
        self.change = change
    }
}

/// Why a watch was refused.
public enum LeaseWatchRejection: Error, Sendable, Hashable {
    /// The key is not one a lease could have (the engine's validation text).
    case invalid(String)
    /// The store already has this many watchers.
    case tooManyWatchers(Int)
}

/// The bounds of lease watching, with where each value comes from.
public struct LeaseWatchLimits: Sendable, Hashable {
    /// The most watchers one store holds at once. Each costs a stream and a one-slot mailbox; 10,000 is
    /// the number of presence-only workers a store is measured with (`docs/performance.md`), so a fleet
    /// where every worker waits on a key fits.
    public var maxWatchers: Int

    /// Creates limits; the argument defaults to the value documented on the property.
    public init(maxWatchers: Int = 10_000) {
        self.maxWatchers = maxWatchers
    }
}
