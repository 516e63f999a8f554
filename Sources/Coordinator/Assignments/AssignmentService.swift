import Assignment
import Inventory
import LeaseEngine
import StreamCore
import Synchronization
import Transport

/// The shell around the pure ``AssignmentGroup`` engine for one store: one engine per group, fed with the
/// monotonic clock; its actions carried out on the store's lease engine (every grant a lease bound to the
/// member's presence, so fences grow on every move), made durable, and only then told to the members.
///
/// Everything a group decides happens under one lock, with the lease engine's lock taken inside it, so the
/// lease log holds releases before the grants that follow them; the wait for durability happens after.
/// Members learn their whole assignment from a one-slot mailbox ordered by revision, so a message made
/// durable late never replaces a newer one.
final class AssignmentService: Sendable {
    struct Group {
        var engine: AssignmentGroup
        /// The fence of each partition's current lease.
        var fences: [String: UInt64] = [:]
        /// The present members' streams.
        var members: [MemberID: AssignmentMember] = [:]
        /// When the engine wants its next tick (monotonic ms).
        var wakeAt: Int64?
    }

    struct State {
        var groups: [String: Group] = [:]
        var nextReference: UInt64 = 0
    }

    /// What an input left to do once the lock is released: wait for its lease events, then offer messages.
    struct Outcome {
        var commit: Result<LogCommit, StreamsError>?
        var updates: [(AssignmentMember, AssignmentUpdate)] = []
    }

    let limits: AssignmentServiceLimits
    let leases: LeaseService
    let inventory: InventoryService
    let wallClock: any WallClock
    let monotonicClock: any MonotonicClock
    let events: StoreEventLog
    let state = Mutex(State())
    /// The timer's wait: until the earliest group deadline, or a wake when an input sets an earlier one.
    let timer: DeadlineWaiter

    /// Opens the service for a store: the assignment leases a previous run left (their presences ended
    /// with it) are released first, so every grant from now on takes a fresh fence.
    init(limits: AssignmentServiceLimits, leases: LeaseService, inventory: InventoryService, wallClock: any WallClock,
         monotonicClock: any MonotonicClock, events: StoreEventLog) async throws(StreamsError) {
        self.limits = limits
        self.leases = leases
        self.inventory = inventory
        self.wallClock = wallClock
        self.monotonicClock = monotonicClock
        timer = DeadlineWaiter(clock: monotonicClock)
        self.events = events
        let released = try await leases.releaseAll(prefix: AssignmentKeys.prefix)
        if released > 0 { events.assignmentLeasesReleasedOnOpen(released) }
        inventory.observePresenceEnded { [weak self] stream in self?.workerPresenceEnded(stream) }
    }

    // MARK: Carrying out

    /// Carries out the engine's `actions` for `group` after `first` (lease steps the input itself needs),
    /// and stages every present member's new assignment. Called under the lock.
    func carryOut(_ actions: [AssignmentAction], first: [AssignmentLeaseStep] = [], in group: inout Group, named name: String)
        -> Outcome
    {
        var steps = first
        for action in actions {
            switch action {
            case .grant(let partition, let member):
                guard let stream = group.members[member] else {
                    preconditionFailure("AssignmentService: grant of \(partition) to \(member), who has no stream")
                }
                steps.append(.grant(key: AssignmentKeys.key(group: name, partition: partition), holder: member.name,
                                    presence: stream.reference))
            case .released(let partition, let member), .revoke(let partition, let member):
                group.fences[partition] = nil
                steps.append(.release(key: AssignmentKeys.key(group: name, partition: partition), holder: member.name))
            case .askRelease, .memberExpired, .scheduleWakeUp:
                break
            }
        }
        let applied = leases.applyAssignmentSteps(steps)
        let prefix = AssignmentKeys.key(group: name, partition: "")
        for (key, token) in applied.tokens { group.fences[String(key.dropFirst(prefix.count))] = token }
        for (key, rejection) in applied.refused.sorted(by: { $0.key < $1.key }) {
            // The engine grants only partitions whose lease ended; a refusal means the lease engine saw a
            // live lease, which it keeps: the partition stays unleased (and out of the owner's message).
            events.assignmentGrantRefused(key: key, rejection.message)
        }
        let previousWake = group.wakeAt
        group.wakeAt = group.engine.nextDeadline
        if let wake = group.wakeAt, previousWake.map({ wake < $0 }) ?? true { timer.wake() }
        return Outcome(commit: applied.commit, updates: stage(&group, named: name))
    }

    /// Every present member whose assignment changed gets a new message with the next revision.
    func stage(_ group: inout Group, named name: String) -> [(AssignmentMember, AssignmentUpdate)] {
        let monoNow = monotonicClock.nowMs()
        let wallNow = wallClock.nowMs()
        var owned: [MemberID: [AssignedPartition]] = [:]
        var releasing: [MemberID: [AssignedPartition]] = [:]
        for status in group.engine.partitionStatuses {
            let key = AssignmentKeys.key(group: name, partition: status.partition)
            switch status.state {
            case .owned(let owner):
                guard let fence = group.fences[status.partition] else { continue }
                owned[owner, default: []].append(AssignedPartition(partition: status.partition, fence: fence, key: key))
            case .releasing(let owner, let deadline):
                guard let fence = group.fences[status.partition] else { continue }
                releasing[owner, default: []].append(AssignedPartition(
                    partition: status.partition, fence: fence, key: key, releaseBy: wallNow + (deadline - monoNow)))
            case .unowned, .reserved:
                continue
            }
        }
        var updates: [(AssignmentMember, AssignmentUpdate)] = []
        let memberCount = group.engine.memberCount
        for (id, member) in group.members {
            let mine = (owned[id] ?? [], releasing[id] ?? [])
            let revision = member.staged.withLock { staged -> UInt64? in
                // Deadlines are shown in wall time computed now: compare what the member acts on.
                if let staged, staged.owned == mine.0, staged.releasing.map(\.partition) == mine.1.map(\.partition) {
                    return nil
                }
                let next = (staged?.revision ?? 0) + 1
                staged = (next, mine.0, mine.1)
                return next
            }
            guard let revision else { continue }
            updates.append((member, AssignmentUpdate(
                group: name, memberID: id.name, revision: revision, partitionCount: group.engine.partitions.count,
                members: memberCount, owned: mine.0, releasing: mine.1)))
        }
        return updates
    }

    /// Waits until an outcome's lease events are durable, then offers its messages. A failed append is
    /// reported and the messages are not sent (the members keep their last durable assignment).
    func deliver(_ outcome: Outcome) async throws(StreamsError) {
        do throws(StreamsError) {
            try await leases.waitDurable(outcome.commit)
        } catch {
            events.storageFailed(error, during: "assignment")
            throw error
        }
        for (member, update) in outcome.updates { member.offer(update) }
    }

    /// ``deliver(_:)`` for outcomes nobody waits for: a failure is reported there.
    func deliverDetached(_ outcome: Outcome) {
        guard outcome.commit != nil || !outcome.updates.isEmpty else { return }
        Task { try? await self.deliver(outcome) }
    }

    /// The engine's refusal as the client's error.
    static func error(_ rejection: AssignmentRejection) -> StreamsError {
        rejection.exceedsLimit ? .limitExceeded(rejection.message) : .invalidRequest(rejection.message)
    }

    /// The lease steps that end a member's hold before the engine hears it is gone: its own presence (every
    /// lease bound to it), or, for a worker's presence that goes on, each lease it holds in the group.
    func endingSteps(of member: AssignmentMember, in group: Group, named name: String) -> [AssignmentLeaseStep] {
        if member.ownsPresence { return [.endPresence(member.reference)] }
        var steps: [AssignmentLeaseStep] = []
        for status in group.engine.partitionStatuses {
            switch status.state {
            case .owned(let owner) where owner == member.id, .releasing(let owner, _) where owner == member.id:
                steps.append(.release(key: AssignmentKeys.key(group: name, partition: status.partition), holder: owner.name))
            default:
                continue
            }
        }
        return steps
    }

    /// Groups now (for status, metrics and tests).
    var groupCount: Int { state.withLock { $0.groups.count } }
}
