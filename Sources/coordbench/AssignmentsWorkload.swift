import CoordBenchKit
import CoordClient
import Foundation
import StreamCore
import Synchronization
import Transport

/// `assignments`: `--members` (100) members of one group of `--partitions` (1,024) on a real daemon, each
/// acknowledging every release at once. After the group is built up one member at a time, `--cycles` (20)
/// times a random member dies (its stream closes; the group has no grace, so its partitions move at once)
/// and a new member joins. Each change is timed from the close (or the subscribe) to a settled assignment as
/// the members see it: every partition owned, none being released, every member at its balanced share. And
/// each change's moved partitions are counted: those whose owner differs between the two settled states.
enum AssignmentsWorkload {
    static func run(options: Options) async throws -> [WorkloadResult] {
        let members = options.int("members") ?? 100
        let partitions = options.int("partitions") ?? 1_024
        let cycles = options.int("cycles") ?? 20
        let loops = try EventLoopGroup()
        defer { loops.shutdownGracefully(graceMs: 1_000) }
        var environment = BenchEnvironment(loops: loops, sizes: try BenchSizes(options), runTag: "assignments")
        let daemon = try await BenchSession.coordd(options: options, environment: &environment)
        defer { daemon?.stop() }
        let target = environment.coorddTarget
        let store = WireUUID.random()
        var connections: [CoorddConnection] = []
        var clients: [CoordClient] = []
        for _ in 0..<4 {
            let (client, connection) = try await target.client(store: store)
            clients.append(client)
            connections.append(connection)
        }
        defer { for connection in connections { connection.close() } }
        let view = AssignmentView(partitions: partitions)
        var live: [String: BenchMember] = [:]
        var next = 0
        func join() async throws -> BenchMember {
            next += 1
            let id = "member-\(next)"
            let member = try await BenchMember.join(id, partitions: partitions, client: clients[next % clients.count], view: view)
            live[id] = member
            return member
        }

        log("coordbench: assignments: building a group of \(members) members over \(partitions) partitions")
        for _ in 0..<members {
            let started = ContinuousClock.now
            view.expect(Set(live.keys).union(["member-\(next + 1)"]))
            _ = try await join()
            _ = try await view.settled(since: started)
        }
        let renewer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(10))
                for member in view.members() { try? await member.stream.send(AssignmentCommand.renew) }
            }
        }
        defer { renewer.cancel() }

        var joins = Samples()
        var deaths = Samples()
        var joinMoves: [Int] = []
        var deathMoves: [Int] = []
        var deathMinimum: [Int] = []
        var random = SystemRandomNumberGenerator()
        let started = ContinuousClock.now
        for cycle in 0..<cycles {
            let before = view.owners()
            let victim = live.keys.sorted()[Int.random(in: 0..<live.count, using: &random)]
            let held = before.filter { $0 == victim }.count
            let dying = ContinuousClock.now
            view.expect(Set(live.keys).subtracting([victim]))
            live.removeValue(forKey: victim)?.kill(view: view)
            deaths.record(try await view.settled(since: dying))
            let afterDeath = view.owners()
            deathMoves.append(zip(before, afterDeath).filter { $0 != $1 }.count)
            deathMinimum.append(held)

            let joining = ContinuousClock.now
            view.expect(Set(live.keys).union(["member-\(next + 1)"]))
            _ = try await join()
            joins.record(try await view.settled(since: joining))
            joinMoves.append(zip(afterDeath, view.owners()).filter { $0 != $1 }.count)
            log("coordbench: assignments: cycle \(cycle + 1)/\(cycles) done")
        }
        let elapsed = ContinuousClock.now - started
        for member in live.values { member.kill(view: view) }

        let shape = "\(members) members × \(partitions) partitions"
        func mean(_ values: [Int]) -> Double { values.isEmpty ? 0 : Double(values.reduce(0, +)) / Double(values.count) }
        let share = Double(partitions) / Double(members)
        return [
            WorkloadResult(
                workload: "assignments: join (\(shape))", system: "coordd", operations: joins.count, elapsed: elapsed,
                latencies: joins,
                metrics: [Metric("moved per join (mean)", mean(joinMoves)), Metric("moved per join (max)", Double(joinMoves.max() ?? 0)),
                          Metric("balanced share", share)]),
            WorkloadResult(
                workload: "assignments: death (\(shape))", system: "coordd", operations: deaths.count, elapsed: elapsed,
                latencies: deaths,
                metrics: [Metric("moved per death (mean)", mean(deathMoves)), Metric("moved per death (max)", Double(deathMoves.max() ?? 0)),
                          Metric("dead member's partitions (mean)", mean(deathMinimum))]),
        ]
    }
}

/// One member: its stream, and the task that reads its assignment and acknowledges releases at once.
struct BenchMember: Sendable {
    let id: String
    let stream: any BidiStream
    let reader: Task<Void, Never>

    static func join(_ id: String, partitions: Int, client: CoordClient, view: AssignmentView) async throws -> BenchMember {
        let stream = try await client.open(SubscribeAssignments(
            group: "bench", memberID: id, partitions: .count(Int64(partitions)), graceMs: 0, revokeAfterMs: 30_000,
            heartbeatIntervalMs: 10_000))
        let reader = Task {
            while let update = try? await stream.receive(AssignmentUpdate.self) {
                view.record(update, at: ContinuousClock.now)
                if !update.releasing.isEmpty {
                    try? await stream.send(AssignmentCommand.released(update.releasing.map(\.partition)))
                }
            }
        }
        let member = BenchMember(id: id, stream: stream, reader: reader)
        view.add(member)
        return member
    }

    /// Closes the stream without leaving, as a process that dies.
    func kill(view: AssignmentView) {
        view.remove(id)
        reader.cancel()
        stream.close(error: nil)
    }
}

/// The group as its members see it: each partition's owner by the latest messages, and when it last became
/// settled for the expected members.
final class AssignmentView: Sendable {
    private struct State {
        var owner: [String: String] = [:]
        var ownedBy: [String: Set<String>] = [:]
        var releasing: [String: Int] = [:]
        var expected: Set<String> = []
        var settledAt: ContinuousClock.Instant?
        var members: [String: BenchMember] = [:]
    }

    let partitions: Int
    private let state = Mutex(State())

    init(partitions: Int) { self.partitions = partitions }

    func add(_ member: BenchMember) { state.withLock { $0.members[member.id] = member } }

    func members() -> [BenchMember] { state.withLock { Array($0.members.values) } }

    /// Forgets a dead member and what it owned.
    func remove(_ id: String) {
        state.withLock { s in
            s.members[id] = nil
            for partition in s.ownedBy[id] ?? [] where s.owner[partition] == id { s.owner[partition] = nil }
            s.ownedBy[id] = nil
            s.releasing[id] = nil
        }
    }

    /// The members the next settled state must hold; clears the last settle time.
    func expect(_ members: Set<String>) {
        state.withLock { s in
            s.expected = members
            s.settledAt = nil
        }
    }

    func record(_ update: AssignmentUpdate, at instant: ContinuousClock.Instant) {
        state.withLock { s in
            guard s.members[update.memberID] != nil || s.expected.contains(update.memberID) else { return }
            for partition in s.ownedBy[update.memberID] ?? [] where s.owner[partition] == update.memberID {
                s.owner[partition] = nil
            }
            let owned = Set(update.owned.map(\.partition))
            for partition in owned { s.owner[partition] = update.memberID }
            s.ownedBy[update.memberID] = owned
            s.releasing[update.memberID] = update.releasing.count
            if s.settledAt == nil, Self.isSettled(s, partitions: partitions) { s.settledAt = instant }
        }
    }

    private static func isSettled(_ s: State, partitions: Int) -> Bool {
        guard !s.expected.isEmpty, s.owner.count == partitions, s.releasing.values.allSatisfy({ $0 == 0 }) else { return false }
        let low = partitions / s.expected.count
        let high = low + (partitions % s.expected.count == 0 ? 0 : 1)
        return s.expected.allSatisfy { member in (low...high).contains(s.ownedBy[member]?.count ?? 0) }
            && s.owner.values.allSatisfy { s.expected.contains($0) }
    }

    /// Waits (up to 60 s) until the view settles, and returns the time from `start`.
    func settled(since start: ContinuousClock.Instant) async throws -> Duration {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let at = state.withLock({ s -> ContinuousClock.Instant? in
                if s.settledAt == nil, Self.isSettled(s, partitions: partitions) { s.settledAt = .now }
                return s.settledAt
            }) {
                return at - start
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw PeerError("the assignment did not settle within 60 s")
    }

    /// Each partition's owner, in partition order ("" when none).
    func owners() -> [String] {
        state.withLock { s in (0..<partitions).map { s.owner[String($0)] ?? "" } }
    }
}
