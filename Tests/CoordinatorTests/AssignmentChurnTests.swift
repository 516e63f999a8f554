import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Synchronization
import Testing
import Transport

/// Members of one group killed, paused past their presence TTL and restarted at seeded moments, while each
/// writes to its partitions under their fences. The history the store kept is then checked: no partition
/// ever had two live owners (a write under an older fence never follows one under a newer fence), fences
/// grow per partition, one fence is one member's, and writes of a member whose presence ended are refused.
@Suite(.serialized) struct AssignmentChurnTests {
    static let partitions = 12
    static let slots = 4
    static let steps = 30

    @Test func churnNeverGivesAPartitionTwoLiveOwners() async throws {
        let seed = SplitMix64.seedFromEnvironment()
        var node = NodeConfiguration()
        node.inventory.engine.ttlFloorMs = 600
        let harness = try await Harness(Configuration(store: .memory, transport: .webSocket), node: node)
        let client = harness.client
        let history = ChurnHistory()
        let members = (0..<Self.slots).map { ChurnMember(id: "m\($0)", client: client, history: history) }
        do {
            try await withDeadline(seconds: 90) {
                var random = SplitMix64(seed: seed)
                for member in members { try await member.start(acknowledging: true) }
                for _ in 0..<Self.steps {
                    let member = members[Int(random.next() % UInt64(Self.slots))]
                    switch random.next() % 5 {
                    case 0: await member.kill()
                    case 1: await member.pause()
                    case 2: try await member.start(acknowledging: random.next() % 3 != 0)
                    default: break
                    }
                    try await Task.sleep(for: .milliseconds(50 + Int(random.next() % 200)))
                }
                // Settled: every partition owned, every member at its target. A member whose presence a
                // loaded machine let expire is started again.
                let settled = await eventually(seconds: 30) {
                    for member in members { try? await member.start(acknowledging: true) }
                    guard let group = try? await client.assignmentGroup("churn") else { return false }
                    return group.members.count == Self.slots && group.members.allSatisfy { $0.present && $0.holding == $0.target }
                        && group.partitions.allSatisfy { $0.state == .owned }
                }
                #expect(settled, "the group settles once every member is back")
                try await Task.sleep(for: .milliseconds(200))
                for member in members { await member.kill() }
            }
            let problems = try await history.check(client: client, partitions: Self.partitions)
            for problem in problems { Issue.record("\(problem) (COORDD_SIM_SEED=\(seed))") }
            #expect(history.acceptedWrites > 0 && history.observedGrants > Self.partitions)
        } catch {
            Issue.record("churn failed: \(error) (COORDD_SIM_SEED=\(seed))")
            for member in members { await member.kill() }
        }
        await harness.shutdown()
    }
}

/// What the members saw and wrote.
final class ChurnHistory: Sendable {
    private struct State {
        /// (partition, fence) → the member granted it.
        var grants: [String: [UInt64: String]] = [:]
        var problems: [String] = []
        var accepted = 0
        var observed = 0
    }

    private let state = Mutex(State())

    func granted(_ partition: String, fence: UInt64, to member: String) {
        state.withLock { s in
            s.observed += 1
            if let other = s.grants[partition]?[fence], other != member {
                s.problems.append("partition \(partition) fence \(fence) was given to \(other) and to \(member)")
            }
            s.grants[partition, default: [:]][fence] = member
        }
    }

    func wrote() { state.withLock { $0.accepted += 1 } }

    func problem(_ text: String) { state.withLock { $0.problems.append(text) } }

    var acceptedWrites: Int { state.withLock { $0.accepted } }
    var observedGrants: Int { state.withLock { $0.observed } }

    /// Reads every partition's writes back and checks them; the problems found.
    func check(client: CoordClient, partitions: Int) async throws -> [String] {
        var problems = state.withLock { $0.problems }
        for partition in (0..<partitions).map(String.init) {
            let entries = try await client.consumeSegment(ConsumeSegment(space: "churn", segment: partition)).collect()
            let grants = state.withLock { $0.grants[partition] ?? [:] }
            problems += Self.problems(
                partition: partition, writes: entries.map { ($0.sequence, $0.payload ?? []) }, grants: grants)
        }
        return problems
    }

    /// The problems in one partition's writes, in store order, each `member:fence`: a write under a fence
    /// lower than one before it (two live owners, or a fence that went back), one fence written by two
    /// members, or a fence written by a member other than the one it was granted to (`grants`: fence → member).
    static func problems(partition: String, writes: [(sequence: UInt64, payload: [UInt8])], grants: [UInt64: String]) -> [String] {
        var problems: [String] = []
        var highest: UInt64 = 0
        var writerOf: [UInt64: String] = [:]
        for (sequence, payload) in writes {
            let parts = String(decoding: payload, as: UTF8.self).split(separator: ":")
            guard parts.count == 2, let fence = UInt64(parts[1]) else {
                problems.append("partition \(partition) entry \(sequence) is unreadable")
                continue
            }
            let member = String(parts[0])
            if fence < highest {
                problems.append("partition \(partition): a write under fence \(fence) by \(member) followed one under \(highest)")
            }
            highest = max(highest, fence)
            if let other = writerOf[fence], other != member {
                problems.append("partition \(partition): fence \(fence) written by \(other) and \(member)")
            }
            writerOf[fence] = member
            if let granted = grants[fence], granted != member {
                problems.append("partition \(partition): fence \(fence) of \(granted) written by \(member)")
            }
        }
        return problems
    }

    /// The problems recorded while the members ran (a fence granted to two members, a write accepted after
    /// its writer's presence ended).
    var recordedProblems: [String] { state.withLock { $0.problems } }
}

/// One member slot: at most one life (subscribe stream) at a time, renewing, acknowledging and writing.
final class ChurnMember: Sendable {
    private struct Life {
        var stream: any BidiStream
        var tasks: [Task<Void, Never>]
        var paused: Bool
        /// The stream ended (the server ended the presence, or replaced it).
        var ended = false
    }

    let id: String
    let client: CoordClient
    let history: ChurnHistory
    private let life = Mutex<Life?>(nil)
    /// What the current life owns: partition → fence.
    private let owned = Mutex<[String: UInt64]>([:])
    /// What the life owned when it was paused: written to once more after its presence ended.
    private let stale = Mutex<[String: UInt64]>([:])

    init(id: String, client: CoordClient, history: ChurnHistory) {
        self.id = id
        self.client = client
        self.history = history
    }

    /// Starts a life unless one is running (a paused one is ended first).
    func start(acknowledging: Bool) async throws {
        if life.withLock({ ($0?.paused ?? false) || ($0?.ended ?? false) }) { await kill() }
        guard life.withLock({ $0 == nil }) else { return }
        let stream = try await client.open(SubscribeAssignments(
            group: "churn", memberID: id, partitions: .count(Int64(AssignmentChurnTests.partitions)), graceMs: 200,
            revokeAfterMs: 400, heartbeatIntervalMs: 100))
        owned.withLock { $0 = [:] }
        let reader = Task { await self.read(stream, acknowledging: acknowledging) }
        let renewer = Task { await self.renew(stream) }
        let writer = Task { await self.write() }
        life.withLock { $0 = Life(stream: stream, tasks: [reader, renewer, writer], paused: false) }
    }

    /// Ends the life at once, as a killed process does: the stream closes without leaving.
    func kill() async {
        guard let ended = life.withLock({ l -> Life? in defer { l = nil }; return l }) else { return }
        for task in ended.tasks { task.cancel() }
        ended.stream.close(error: nil)
        for task in ended.tasks { await task.value }
        owned.withLock { $0 = [:] }
    }

    /// Stops renewing, acknowledging and writing, as a paused process does: the server ends its presence after
    /// the TTL. Then, like a process waking up, it tries one more write under each fence it had: refused.
    func pause() async {
        life.withLock { l in
            guard l?.paused == false else { return }
            l?.paused = true
            stale.withLock { $0 = owned.withLock { $0 } }
        }
    }

    private var isPaused: Bool { life.withLock { $0?.paused ?? true } }

    /// Reads the life's messages until its stream ends. While paused it acts on none of them; once the
    /// server ended the paused member's presence, it writes under each fence it had, as a process waking up
    /// would: every such write must be refused.
    private func read(_ stream: any BidiStream, acknowledging: Bool) async {
        while !Task.isCancelled {
            guard let update = try? await stream.receive(AssignmentUpdate.self) else { break }
            if isPaused { continue }
            let mine = Dictionary(uniqueKeysWithValues: update.owned.map { ($0.partition, $0.fence) })
            for entry in update.owned + update.releasing { history.granted(entry.partition, fence: entry.fence, to: id) }
            owned.withLock { $0 = mine }
            if acknowledging, !update.releasing.isEmpty {
                try? await stream.send(AssignmentCommand.released(update.releasing.map(\.partition)))
            }
        }
        owned.withLock { $0 = [:] }
        life.withLock { $0?.ended = true }
        guard !Task.isCancelled, isPaused else { return }
        for (partition, fence) in stale.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            let payload = Array("\(id):\(fence)".utf8)
            if (try? await client.append(space: "churn", segment: partition, payloads: [payload],
                                         fence: Fence(key: "$assign/churn/\(partition)", token: fence))) != nil {
                history.problem("\(id)'s write under fence \(fence) on \(partition) after its presence ended was accepted")
            }
        }
    }

    private func renew(_ stream: any BidiStream) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            if isPaused { return }
            try? await stream.send(AssignmentCommand.renew)
        }
    }

    private func write() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(40))
            if isPaused { continue }
            for (partition, fence) in owned.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
                let payload = Array("\(id):\(fence)".utf8)
                do {
                    _ = try await client.append(space: "churn", segment: partition, payloads: [payload],
                                                fence: Fence(key: "$assign/churn/\(partition)", token: fence))
                    history.wrote()
                } catch {
                    // Refused (the lease moved on) or contended: either way nothing was written.
                }
            }
        }
    }
}
