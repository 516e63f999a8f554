import Inventory

/// A hand-driven pair of clocks: tests advance it explicitly and never sleep.
struct ManualClock {
    var monotonicMs: Int64 = 1_000
    var wallMs: Int64 = 1_780_000_000_000

    var now: InventoryInstant { InventoryInstant(monotonicMs: monotonicMs, wallMs: wallMs) }

    /// Moves both clocks forward by `ms`.
    mutating func advance(ms: Int64) {
        monotonicMs += ms
        wallMs += ms
    }
}

/// A worker id whose last byte is `n` (and whose first byte is `n` too, so ordering is visible in both halves).
func worker(_ n: UInt8) -> WorkerID {
    WorkerID(high: UInt64(n) << 56, low: UInt64(n))
}

/// The renew interval streamkit's Go client sends by default (30 s), so TTL is 90 s.
let defaultRenewMs: Int64 = 30_000

extension RegisterResult {
    /// The change of an accepted registration, nil for a rejection.
    var change: InventoryChange? {
        if case .accepted(let change, _) = self { return change }
        return nil
    }

    /// The replaced stream of an accepted registration.
    var replaced: StreamID? {
        if case .accepted(_, let replaced) = self { return replaced }
        return nil
    }

    /// The rejection, nil when accepted.
    var rejection: RegistryRejection? {
        if case .rejected(let rejection) = self { return rejection }
        return nil
    }
}
