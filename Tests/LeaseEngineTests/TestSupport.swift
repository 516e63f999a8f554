import LeaseEngine

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator, so a failing run replays from its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension AcquireAction {
    var grant: LeaseGrant? {
        if case .appendToLog(_, let grant) = self { return grant }
        return nil
    }

    var event: LeaseEvent? {
        if case .appendToLog(let event, _) = self { return event }
        return nil
    }

    var rejection: LeaseRejection? {
        if case .reject(let rejection) = self { return rejection }
        return nil
    }
}

extension RenewAction {
    var grant: LeaseGrant? {
        switch self {
        case .renewed(let grant), .appendToLog(_, let grant): return grant
        case .reject: return nil
        }
    }

    var event: LeaseEvent? {
        if case .appendToLog(let event, _) = self { return event }
        return nil
    }

    var rejection: LeaseRejection? {
        if case .reject(let rejection) = self { return rejection }
        return nil
    }
}

extension ReleaseAction {
    var event: LeaseEvent? {
        if case .appendToLog(let event) = self { return event }
        return nil
    }

    var rejection: LeaseRejection? {
        if case .reject(let rejection) = self { return rejection }
        return nil
    }
}
