import Assignment
import Inventory
import StreamCore
import Transport

extension AssignmentService {
    /// A validated subscribe request.
    struct Subscription {
        var group: String
        var member: MemberID
        var presence: AssignmentMember.Presence
        var weight: Int
        var zone: String?
        var partitions: PartitionSet?
        /// The pins the member declared, checked on their own (against the group's partitions under the lock).
        var partitionZones: [String: String]?
        var graceMs: Int64?
        var revokeAfterMs: Int64?
    }

    /// Checks a subscribe request on its own (the group's declaration is checked under the lock).
    func validate(_ request: SubscribeAssignments) throws(StreamsError) -> Subscription {
        let engineLimits = limits.engine
        if let problem = engineLimits.problem(with: request.group, as: .group) { throw Self.error(problem) }
        let member: MemberID
        let presence: AssignmentMember.Presence
        switch (request.memberID, request.workerID) {
        case (let name?, nil):
            member = MemberID(name)
            let interval = request.heartbeatIntervalMs ?? limits.defaultHeartbeatIntervalMs
            guard (limits.minHeartbeatIntervalMs...limits.maxHeartbeatIntervalMs).contains(interval) else {
                throw .invalidRequest(
                    "heartbeat_interval_ms \(interval) is outside \(limits.minHeartbeatIntervalMs)...\(limits.maxHeartbeatIntervalMs)")
            }
            let (tripled, overflow) = interval.multipliedReportingOverflow(by: 3)
            presence = .stream(ttlMs: max(overflow ? Int64.max : tripled, inventory.limits.engine.ttlFloorMs))
        case (nil, let worker?):
            member = MemberID(worker.description)
            presence = .worker(worker)
        default:
            throw .invalidRequest("a subscribe_assignments request names exactly one of member_id and worker_id")
        }
        if let problem = engineLimits.problem(with: member.name, as: .member) { throw Self.error(problem) }
        let weight = request.weight ?? 1
        guard (1...Int64(engineLimits.maxWeight)).contains(weight) else {
            throw Self.error(.invalidWeight(Int(clamping: weight), limit: engineLimits.maxWeight))
        }
        if let zone = request.zone, let problem = engineLimits.problem(with: zone, as: .zone) { throw Self.error(problem) }
        let partitions = try request.partitions.map { declared throws(StreamsError) in try partitionSet(declared) }
        if let pins = request.partitionZones {
            // Without partitions of its own, the pins are checked on their own here and against the group's later.
            let pinnedTo: PartitionSet
            if let partitions { pinnedTo = partitions } else { pinnedTo = try pinnedNames(pins) }
            _ = try zones(pins, for: pinnedTo)
        }
        if request.graceMs != nil || request.revokeAfterMs != nil {
            if case .failure(let problem) = AssignmentTimings.validated(
                graceMs: request.graceMs, revokeAfterMs: request.revokeAfterMs, limits: engineLimits)
            {
                throw Self.error(problem)
            }
        }
        return Subscription(group: request.group, member: member, presence: presence, weight: Int(weight),
                            zone: request.zone, partitions: partitions, partitionZones: request.partitionZones,
                            graceMs: request.graceMs, revokeAfterMs: request.revokeAfterMs)
    }

    /// Declared pins as the engine's, for `partitions`.
    func zones(_ pins: [String: String], for partitions: PartitionSet) throws(StreamsError) -> PartitionZones {
        switch PartitionZones.validated(pins, partitions: partitions, limits: limits.engine) {
        case .success(let zones): return zones
        case .failure(let problem): throw Self.error(problem)
        }
    }

    /// The partitions `pins` names, as a set to check them against on their own.
    private func pinnedNames(_ pins: [String: String]) throws(StreamsError) -> PartitionSet {
        guard !pins.isEmpty else { return try partitionSet(.count(1)) }
        return try partitionSet(.names(pins.keys.sorted()))
    }

    /// A declaration as the engine's partition set.
    func partitionSet(_ declared: PartitionDeclaration) throws(StreamsError) -> PartitionSet {
        let result: Result<PartitionSet, AssignmentRejection>
        switch declared {
        case .count(let count): result = PartitionSet.count(Int(clamping: count), limits: limits.engine)
        case .names(let names): result = PartitionSet.named(names, limits: limits.engine)
        }
        switch result {
        case .success(let set): return set
        case .failure(let problem): throw Self.error(problem)
        }
    }

    /// Joins the member the request names, replacing a stream that speaks for it already, and returns once
    /// its first assignment is durable and in its mailbox.
    func join(_ request: SubscribeAssignments, stream: any BidiStream) async throws(StreamsError) -> AssignmentMember {
        let subscription = try validate(request)
        let (member, outcome) = try state.withLock { s throws(StreamsError) -> (AssignmentMember, Outcome) in
            let now = monotonicClock.nowMs()
            let reference: UInt64
            switch subscription.presence {
            case .stream:
                s.nextReference += 1
                // The high half is the service's own: the inventory numbers worker presences from 0 up.
                reference = (1 << 63) | s.nextReference
            case .worker(let worker):
                guard let current = inventory.presence(of: worker) else {
                    throw .invalidRequest("worker \(worker) is not registered")
                }
                reference = current.rawValue
            }
            // Taken out of the map while it changes, so its arrays are not copied; every path puts it back.
            var group = try existingOrNew(subscription, in: &s)
            let member = AssignmentMember(group: subscription.group, id: subscription.member,
                                          presence: subscription.presence, reference: reference, stream: stream, now: now)
            var first: [AssignmentLeaseStep] = []
            var earlier: [AssignmentAction] = []
            if let replaced = group.members[subscription.member] {
                // A second stream for a present member replaces the first: its hold ends, then it returns.
                replaced.end(with: .memberReplaced)
                first = endingSteps(of: replaced, in: group, named: subscription.group)
                group.members[subscription.member] = nil
                if case .success(let actions) = group.engine.disconnect(subscription.member, now: now) { earlier = actions }
            }
            switch group.engine.join(subscription.member, weight: subscription.weight, zone: subscription.zone, now: now) {
            case .failure(let problem):
                if !first.isEmpty || !earlier.isEmpty {
                    // The replaced stream's end must still happen; the newcomer is refused.
                    deliverDetached(carryOut(earlier, first: first, in: &group, named: subscription.group))
                }
                s.groups[subscription.group] = group.engine.isEmpty ? nil : group
                throw Self.error(problem)
            case .success(let actions):
                group.members[subscription.member] = member
                let outcome = carryOut(earlier.filter(\.isLeaseAction) + actions, first: first, in: &group,
                                       named: subscription.group)
                s.groups[subscription.group] = group
                return (member, outcome)
            }
        }
        events.assignmentMemberJoined(group: subscription.group, member: subscription.member.name)
        try await deliver(outcome)
        return member
    }

    /// The group the subscription names, checked against its declaration, or a new one made from it.
    private func existingOrNew(_ subscription: Subscription, in s: inout State) throws(StreamsError) -> Group {
        if let group = s.groups[subscription.group] {
            try checkDeclaration(subscription, against: group.engine)
            s.groups[subscription.group] = nil
            return group
        }
        guard let partitions = subscription.partitions else {
            throw .invalidRequest("group \(subscription.group) does not exist; the first member declares its partitions")
        }
        if let problem = limits.engine.problemCreatingGroup(named: subscription.group, existingGroups: s.groups.count) {
            throw Self.error(problem)
        }
        let timings: AssignmentTimings
        switch AssignmentTimings.validated(graceMs: subscription.graceMs, revokeAfterMs: subscription.revokeAfterMs,
                                           limits: limits.engine) {
        case .success(let valid): timings = valid
        case .failure(let problem): throw Self.error(problem)
        }
        let zones = try subscription.partitionZones.map { pins throws(StreamsError) in try self.zones(pins, for: partitions) }
        return Group(engine: AssignmentGroup(partitions: partitions, zones: zones ?? .none, timings: timings, limits: limits.engine))
    }

    /// First declaration wins: what a later member declares must be the group's.
    private func checkDeclaration(_ subscription: Subscription, against engine: AssignmentGroup) throws(StreamsError) {
        let group = subscription.group
        if let partitions = subscription.partitions, partitions != engine.partitions {
            throw .assignmentDeclarationMismatch(
                "group \(group) has \(Self.describe(engine.partitions)); this member declared \(Self.describe(partitions))")
        }
        if let pins = subscription.partitionZones, pins != engine.zones.zones {
            throw .assignmentDeclarationMismatch(
                "group \(group) \(Self.describeDifference(group: engine.zones.zones, declared: pins))")
        }
        if let grace = subscription.graceMs, grace != engine.timings.graceMs {
            throw .assignmentDeclarationMismatch("group \(group) has grace_ms \(engine.timings.graceMs); this member declared \(grace)")
        }
        if let revoke = subscription.revokeAfterMs, revoke != engine.timings.revokeAfterMs {
            throw .assignmentDeclarationMismatch(
                "group \(group) has revoke_after_ms \(engine.timings.revokeAfterMs); this member declared \(revoke)")
        }
    }

    /// A partition set in a few words: `64 partitions ("0"…"63")` or `3 partitions ("a", "b", "c")`.
    static func describe(_ partitions: PartitionSet) -> String {
        let names = partitions.names
        let isCount = names.enumerated().allSatisfy { $0.element == String($0.offset) }
        if isCount { return "\(names.count) partitions (a count)" }
        let shown = names.prefix(3).map { "\"\(InputExcerpt.excerpt($0))\"" }.joined(separator: ", ")
        return "\(names.count) named partitions (\(shown)\(names.count > 3 ? ", …" : ""))"
    }

    /// How two sets of pins differ, in a few words: their sizes, then the first partitions pinned differently,
    /// e.g. `pins 4 partitions to zones; this member declared 4, differing at "3" (group: b, declared: c)`.
    static func describeDifference(group: [String: String], declared: [String: String]) -> String {
        let differing = Set(group.keys).union(declared.keys).filter { group[$0] != declared[$0] }.sorted()
        let shown = differing.prefix(3).map { name in
            "\"\(InputExcerpt.excerpt(name))\" (group: \(group[name].map { InputExcerpt.excerpt($0) } ?? "none"), "
                + "declared: \(declared[name].map { InputExcerpt.excerpt($0) } ?? "none"))"
        }
        return "pins \(group.count) partitions to zones; this member declared \(declared.count), differing at "
            + shown.joined(separator: ", ") + (differing.count > 3 ? ", …" : "")
    }

    /// Runs one engine input for a member that is still the group's present stream, carries out its
    /// actions and delivers them. Nothing happens when the member has been replaced or has gone.
    func input(
        for member: AssignmentMember, first: (Group) -> [AssignmentLeaseStep] = { _ in [] },
        after: (inout Group) -> Void = { _ in },
        _ body: (inout AssignmentGroup, Int64) -> Result<[AssignmentAction], AssignmentRejection>
    ) async throws(StreamsError) {
        let outcome = try state.withLock { s throws(StreamsError) -> Outcome? in
            guard s.groups[member.group]?.members[member.id] === member,
                  var group = s.groups.removeValue(forKey: member.group) else { return nil }
            let steps = first(group)
            switch body(&group.engine, monotonicClock.nowMs()) {
            case .failure(let problem):
                s.groups[member.group] = group
                throw Self.error(problem)
            case .success(let actions):
                after(&group)
                let outcome = carryOut(actions, first: steps, in: &group, named: member.group)
                s.groups[member.group] = group.engine.isEmpty ? nil : group
                return outcome
            }
        }
        if let outcome { try await deliver(outcome) }
    }

    /// The member acknowledges releases.
    func released(_ partitions: [String], by member: AssignmentMember) async throws(StreamsError) {
        try await input(for: member) { engine, now in engine.released(partitions, by: member.id, now: now) }
    }

    /// The member leaves without grace: its leases are released and its partitions granted onwards.
    func leave(_ member: AssignmentMember) async throws(StreamsError) {
        try await input(for: member, first: { _ in member.ownsPresence ? [.endPresence(member.reference)] : [] },
                        after: { $0.members[member.id] = nil }) { engine, now in
            engine.leave(member.id, now: now)
        }
        events.assignmentMemberLeft(group: member.group, member: member.id.name, how: "left")
    }

    /// The member changes the group's declaration; pins without partitions apply to the group's partitions.
    func update(
        _ partitions: PartitionDeclaration?, graceMs: Int64?, revokeAfterMs: Int64?, partitionZones: [String: String]? = nil,
        by member: AssignmentMember
    ) async throws(StreamsError) {
        let set = try partitions.map { declared throws(StreamsError) in try partitionSet(declared) }
        try await input(for: member) { engine, now in
            if graceMs != nil || revokeAfterMs != nil {
                switch AssignmentTimings.validated(graceMs: graceMs ?? engine.timings.graceMs,
                                                   revokeAfterMs: revokeAfterMs ?? engine.timings.revokeAfterMs,
                                                   limits: limits.engine) {
                case .success(let timings): engine.timings = timings
                case .failure(let problem): return .failure(problem)
                }
            }
            if let partitionZones {
                let updated = set ?? engine.partitions
                switch PartitionZones.validated(partitionZones, partitions: updated, limits: limits.engine) {
                case .success(let zones): return engine.updatePartitions(updated, zones: zones, now: now)
                case .failure(let problem): return .failure(problem)
                }
            }
            guard let set else { return .success(engine.tick(now: now)) }
            return engine.updatePartitions(set, now: now)
        }
    }

    /// The member's stream ended without `leave`: a disconnect, which starts its grace period.
    func streamEnded(_ member: AssignmentMember, reason: String) {
        let outcome = state.withLock { s -> Outcome? in
            guard s.groups[member.group]?.members[member.id] === member,
                  var group = s.groups.removeValue(forKey: member.group) else { return nil }
            let steps = endingSteps(of: member, in: group, named: member.group)
            group.members[member.id] = nil
            guard case .success(let actions) = group.engine.disconnect(member.id, now: monotonicClock.nowMs()) else {
                preconditionFailure("AssignmentService: present member \(member.id) could not disconnect")
            }
            let outcome = carryOut(actions, first: steps, in: &group, named: member.group)
            s.groups[member.group] = group.engine.isEmpty ? nil : group
            return outcome
        }
        guard let outcome else { return }
        events.assignmentMemberLeft(group: member.group, member: member.id.name, how: reason)
        deliverDetached(outcome)
    }

    /// A worker's presence ended: every member speaking for it ends with `presence_expired` (its leases
    /// ended with the presence; the stream's end then starts its grace period).
    func workerPresenceEnded(_ stream: StreamID) {
        let ended = state.withLock { s in
            s.groups.values.flatMap { group in
                group.members.values.filter { !$0.ownsPresence && $0.reference == stream.rawValue }
            }
        }
        for member in ended {
            member.end(with: .presenceExpired)
            streamEnded(member, reason: "presence_ended")
        }
    }
}

extension AssignmentAction {
    /// True for the actions that change a lease or a member's message (not a wake-up).
    var isLeaseAction: Bool {
        if case .scheduleWakeUp = self { return false }
        return true
    }
}
