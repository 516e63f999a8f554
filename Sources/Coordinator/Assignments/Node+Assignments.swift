import Assignment
import StreamCore
import Transport

extension Node {
    /// coordd's `subscribe_assignments`: joins the member, sends its assignment after every change that
    /// concerns it, and reads its commands, until it leaves, its stream ends (a disconnect: its grace period
    /// starts), its presence ends, or another stream replaces it.
    ///
    /// Two or three tasks: the reader of commands, the sender of the mailbox, and for a `member_id` member
    /// the watch over its renewals.
    func subscribeAssignments(_ request: SubscribeAssignments, on stream: any BidiStream) async throws(StreamsError) {
        let member = try await assignments.join(request, stream: stream)
        var left = false
        var reason = "disconnected"
        do {
            left = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask { try await self.readAssignmentCommands(of: member) }
                group.addTask { try await self.sendAssignments(to: member) }
                if case .stream(let ttlMs) = member.presence {
                    group.addTask { try await self.watchRenewals(of: member, ttlMs: ttlMs) }
                }
                // Every child ends only by returning (the reader: the member left or closed) or throwing.
                let first = try await group.next() ?? false
                group.cancelAll()
                return first
            }
        } catch let error as StreamsError {
            reason = error.name
            assignments.streamEnded(member, reason: reason)
            if error != .cancelled { throw error }
            return
        } catch {
            assignments.streamEnded(member, reason: "internal")
            throw .internalError("assignment stream ended: \(error)")
        }
        if !left { assignments.streamEnded(member, reason: reason) }
    }

    /// Reads the member's commands; true when it left, false when it closed its side without leaving.
    private func readAssignmentCommands(of member: AssignmentMember) async throws(StreamsError) -> Bool {
        while let bytes = try await member.stream.receive() {
            let command: AssignmentCommand
            do {
                command = try AssignmentCommand(decoding: bytes)
            } catch {
                throw error.name == StreamsError.malformed("").name
                    ? .invalidRequest("invalid assignment command: \(error.message)") : error
            }
            switch command {
            case .released(let partitions):
                try await assignments.released(partitions, by: member)
            case .renew:
                guard member.ownsPresence else {
                    throw .invalidRequest("a worker_id member's presence is its worker's; this stream takes no renewals")
                }
                member.renewedAt.store(configuration.monotonicClock.nowMs(), ordering: .relaxed)
            case .updateGroup(let partitions, let graceMs, let revokeAfterMs, let partitionZones):
                try await assignments.update(partitions, graceMs: graceMs, revokeAfterMs: revokeAfterMs,
                                             partitionZones: partitionZones, by: member)
            case .leave:
                try await assignments.leave(member)
                return true
            }
        }
        return false
    }

    /// Sends what the member's mailbox holds, until the member must end (then throws why).
    private func sendAssignments(to member: AssignmentMember) async throws(StreamsError) -> Bool {
        while !Task.isCancelled {
            if let update = try member.take() { try await member.stream.send(update) }
            await member.wakeup.wait()
        }
        throw .cancelled
    }

    /// Ends a `member_id` member that has not renewed within its TTL with `presence_expired`.
    private func watchRenewals(of member: AssignmentMember, ttlMs: Int64) async throws(StreamsError) -> Bool {
        let clock = configuration.monotonicClock
        while !Task.isCancelled {
            let due = member.renewedAt.load(ordering: .relaxed) + ttlMs
            let now = clock.nowMs()
            if now >= due { throw .presenceExpired }
            do throws(CancellationError) {
                try await clock.sleep(untilMs: due)
            } catch {
                throw .cancelled
            }
        }
        throw .cancelled
    }
}
