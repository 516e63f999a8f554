import Assignment
import LeaseEngine
import Testing

/// The service as the simulation plays it: it feeds the group engine, carries its actions out on a real
/// `LeaseEngine` (a lease per partition, bound to the member's presence), and checks the history as it goes.
///
/// The checker keeps its own record of who holds each partition's lease, built only from the actions and the
/// presence ends, and fails at once when a grant would give a partition a second holder, when the lease
/// engine disagrees, or when a fence does not grow.
struct SimulatedShell {
    var engine: AssignmentGroup
    var leases = LeaseEngine()
    var now: Int64 = 0
    var context = ""

    /// The presence reference each present member's leases are bound to; a new one per join.
    private(set) var presence: [MemberID: UInt64] = [:]
    private(set) var weights: [MemberID: Int] = [:]
    private(set) var absentUntil: [MemberID: Int64] = [:]
    private var nextPresence: UInt64 = 1
    /// Who holds each partition's lease, by the checker's own account.
    private(set) var holder: [String: MemberID] = [:]
    /// Each partition's last fence: every grant must exceed it.
    private var fences: [String: UInt64] = [:]
    /// Partitions asked to be released, by whom and by when.
    private var asked: [String: (member: MemberID, deadline: Int64)] = [:]
    private var wakeUp: Int64?

    /// How often each path ran, so a passing run can show it exercised them.
    private(set) var counts: [String: Int] = [:]

    init(engine: AssignmentGroup) { self.engine = engine }

    static func key(_ partition: String) -> String { "$assign/g/\(partition)" }

    // MARK: - Member and clock events

    mutating func join(_ member: MemberID, weight: Int) throws {
        let returning = absentUntil[member] != nil
        let reserved = reservations(of: member)
        let result = engine.join(member, weight: weight, now: now)
        if case .failure(let rejection) = result {
            try check(rejection == .tooManyMembers(limit: engine.limits.maxMembers) && !returning,
                         "\(context): join of \(member) refused: \(rejection)")
            try check(engine.memberStatuses.count == engine.limits.maxMembers, "\(context): refused below the limit")
            count("refused join")
            return
        }
        presence[member] = nextPresence
        nextPresence += 1
        weights[member] = weight
        absentUntil[member] = nil
        let actions = try result.actions
        if returning {
            // Its reserved partitions come back to it first, unmoved.
            let firstGrants = actions.prefix(reserved.count)
            try check(firstGrants == reserved.map { .grant(partition: $0, to: member) }[...],
                         "\(context): \(member) returned to \(actions), reserved \(reserved)")
            count("return within grace")
            count("partitions given back", by: reserved.count)
        }
        try apply(actions)
    }

    /// The member's presence ends: the lease engine ends its bound leases first (as the lease service does),
    /// then the group hears of it.
    mutating func disconnect(_ member: MemberID) throws {
        guard let reference = presence.removeValue(forKey: member) else { throw failure("\(context): \(member) not present") }
        weights[member] = nil
        let wasReleasing = asked.filter { $0.value.member == member }.keys
        try endPresence(reference, of: member)
        let actions = try engine.disconnect(member, now: now).actions
        if engine.timings.graceMs > 0 { absentUntil[member] = now + engine.timings.graceMs }
        count("disconnect")
        try apply(actions)
        // What it was releasing is not reserved for it: it goes to a present member at once.
        for partition in wasReleasing where !presence.isEmpty && engine.partitions.names.contains(partition) {
            try check(holder[partition] != nil, "\(context): \(partition), released by \(member)'s absence, was not granted at once")
        }
    }

    /// The member leaves on purpose: the group releases its leases, then its presence ends with nothing left.
    mutating func leave(_ member: MemberID) throws {
        let actions = try engine.leave(member, now: now).actions
        absentUntil[member] = nil
        weights[member] = nil
        try apply(actions)
        if let reference = presence.removeValue(forKey: member) {
            try check(leases.workerEnded(reference, now: now).isEmpty, "\(context): \(member) left with leases")
        }
        count("leave")
    }

    /// `member` acknowledges `partitions` (some of which may not be its to release).
    mutating func acknowledge(_ partitions: [String], by member: MemberID) throws {
        try apply(try engine.released(partitions, by: member, now: now).actions)
    }

    mutating func updatePartitions(_ updated: PartitionSet) throws {
        let before = engine.partitionStatuses
        switch engine.updatePartitions(updated, now: now) {
        case .success(let actions):
            count("partition update")
            try apply(actions)
        case .failure(let rejection):
            try check(rejection == .tooManyPartitionsInHand(limit: engine.limits.maxPartitions), "\(context): \(rejection)")
            try check(engine.partitionStatuses == before, "\(context): a refused update changed the group")
            count("refused update")
        }
    }

    /// Moves the clock, ticking whenever the engine's wake-up is due (the shell's one timer).
    mutating func advance(by milliseconds: Int64) throws {
        now += milliseconds
        if let due = wakeUp, due <= now { try apply(engine.tick(now: now)) }
        if let due = engine.nextDeadline { try check(due > now, "\(context): deadline \(due) left behind at \(now)") }
    }

    /// A tick when nothing may be due: harmless.
    mutating func spuriousTick() throws {
        try apply(engine.tick(now: now))
    }

    // MARK: - Carrying actions out

    mutating func apply(_ actions: [AssignmentAction]) throws {
        wakeUp = nil
        let context = self.context
        for (position, action) in actions.enumerated() {
            func step() -> String { "\(context): action \(position) \(action) of \(actions)" }
            switch action {
            case .grant(let partition, let member):
                guard let reference = presence[member] else { throw failure("\(step()): granted to a member that is not present") }
                try check(holder[partition] == nil, "\(step()): two owners: still held by \(holder[partition]!)")
                let acquired = leases.acquire(key: Self.key(partition), holder: member.name, ttl: .milliseconds(60_000),
                                              boundTo: reference, now: now)
                guard case .appendToLog(_, let grant) = acquired else {
                    throw failure("\(step()): the lease engine refused the grant: \(acquired)")
                }
                try check(grant.token > fences[partition] ?? 0, "\(step()): fence \(grant.token) after \(fences[partition] ?? 0)")
                fences[partition] = grant.token
                holder[partition] = member
                count("grant")
            case .askRelease(let partition, let member, let deadline):
                try check(holder[partition] == member, "\(step()): asked a member that does not hold it")
                try check(asked[partition] == nil, "\(step()): asked twice")
                try check(deadline == now + engine.timings.revokeAfterMs, "\(step()): deadline")
                asked[partition] = (member, deadline)
                count("ask")
            case .released(let partition, let member):
                try endLease(partition, of: member, step: step)
                count("release")
            case .revoke(let partition, let member):
                guard let request = asked[partition] else { throw failure("\(step()): revoked without being asked") }
                try check(request.member == member && request.deadline <= now, "\(step()): revoked early or from another")
                try endLease(partition, of: member, step: step)
                count("revoke")
            case .memberExpired(let member):
                guard let until = absentUntil.removeValue(forKey: member) else {
                    throw failure("\(step()): expired a member that is not absent")
                }
                try check(until <= now, "\(step()): expired before its grace ended at \(until)")
                count("expiry")
            case .scheduleWakeUp(let at):
                try check(position == actions.count - 1, "\(step()): the wake-up must come last")
                wakeUp = at
            }
        }
        try check(wakeUp == engine.nextDeadline, "\(context): wake-up \(String(describing: wakeUp)) for \(String(describing: engine.nextDeadline))")
    }

    private mutating func endLease(_ partition: String, of member: MemberID, step: () -> String) throws {
        try check(holder[partition] == member, "\(step()): \(member) does not hold it")
        guard case .appendToLog = leases.release(key: Self.key(partition), holder: member.name, now: now) else {
            throw failure("\(step()): the lease engine has no lease of \(member) to release")
        }
        holder[partition] = nil
        asked[partition] = nil
    }

    private mutating func endPresence(_ reference: UInt64, of member: MemberID) throws {
        let ended = Set(leases.workerEnded(reference, now: now).map(\.key))
        let held = Set(holder.filter { $0.value == member }.keys.map(Self.key))
        try check(ended == held, "\(context): \(member)'s presence ended leases \(ended), held \(held)")
        for (partition, owner) in holder where owner == member {
            holder[partition] = nil
            asked[partition] = nil
        }
    }

    private func reservations(of member: MemberID) -> [String] {
        engine.partitionStatuses.compactMap { status in
            if case .reserved(let owner, _) = status.state, owner == member { status.partition } else { nil }
        }
    }

    private mutating func count(_ path: String, by amount: Int = 1) { counts[path, default: 0] += amount }

    // MARK: - Invariants, checked after every step

    func checkInvariants() throws {
        // The lease table holds exactly the checker's leases (all bound, so none expires by time), with the
        // fences it saw granted.
        try check(leases.leaseCount == holder.count, "\(context): \(leases.leaseCount) leases, \(holder.count) held")
        for (partition, member) in holder {
            let lease = leases.lease(for: Self.key(partition), now: now)
            try check(lease?.holder == member.name && lease?.token == fences[partition], "\(context): \(partition): \(String(describing: lease))")
        }
        // Every holder is present, and each present member's assignment is what it holds and was asked to release.
        var held: [MemberID: Set<String>] = [:]
        var releasing: [MemberID: Set<String>] = [:]
        for (partition, member) in holder {
            try check(presence[member] != nil, "\(context): \(partition) held by absent \(member)")
            held[member, default: []].insert(partition)
        }
        for (partition, request) in asked { releasing[request.member, default: []].insert(partition) }
        for member in presence.keys {
            guard let assignment = engine.assignment(of: member) else { throw failure("\(context): present \(member) has no assignment") }
            try check(Set(assignment.owned + assignment.releasing.map(\.partition)) == held[member] ?? [],
                      "\(context): \(member) \(assignment), holds \(held[member] ?? [])")
            try check(Set(assignment.releasing.map(\.partition)) == releasing[member] ?? [], "\(context): \(member) releasing")
        }
        // Every declared partition is held, or reserved for an absent member, unless nobody is present.
        for status in engine.partitionStatuses where !status.removed {
            switch status.state {
            case .owned(let member), .releasing(let member, _):
                try check(holder[status.partition] == member, "\(context): \(status)")
            case .reserved(let member, let until):
                try check(holder[status.partition] == nil && absentUntil[member] == until, "\(context): \(status)")
            case .unowned:
                try check(presence.isEmpty, "\(context): \(status.partition) unowned with members present")
            }
        }
    }

    /// Every present member acknowledges every release; then the group must be settled: nothing releasing,
    /// every partition owned where the plan puts it, and the present members balanced over the partitions not
    /// reserved for an absent one.
    mutating func settle() throws {
        for member in presence.keys.sorted() {
            let releasing = engine.assignment(of: member)?.releasing.map(\.partition) ?? []
            try acknowledge(releasing, by: member)
        }
        let statuses = engine.partitionStatuses
        try check(statuses.allSatisfy { !$0.removed }, "\(context): removed partitions left after settling")
        var held: [MemberID: Int] = [:]
        var free = 0
        for status in statuses {
            switch status.state {
            case .owned(let member):
                try check(status.target == member, "\(context): settled \(status) is not on its target")
                held[member, default: 0] += 1
                free += 1
            case .reserved(let member, _):
                try check(status.target == member, "\(context): \(status)")
            case .unowned:
                try check(presence.isEmpty, "\(context): \(status) with members present")
            case .releasing:
                throw failure("\(context): \(status) still releasing after every acknowledgement")
            }
        }
        let total = weights.values.reduce(0, +)
        for (member, weight) in weights {
            let bounds = shareBounds(partitionCount: free, weight: weight, totalWeight: total)
            try check(bounds.contains(held[member] ?? 0), "\(context): \(member) holds \(held[member] ?? 0), bounds \(bounds)")
        }
        count("settled")
    }
}

/// A failed check of the simulation; the issue recorded with it says what and where.
struct SimulationFailure: Error {}

/// Records `message` as an issue and returns the error that stops the run.
func failure(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) -> SimulationFailure {
    Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    return SimulationFailure()
}

/// Stops the run with `message` unless `condition` holds. Unlike `#require`, the message, which describes
/// the whole state, is only built on failure: the simulation checks thousands of conditions per run.
func check(_ condition: Bool, _ message: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    guard condition else { throw failure(message(), sourceLocation: sourceLocation) }
}
