@testable import Coordinator
import CoordTestKit
import Inventory
import StreamCore

/// One seeded run of a node on the memory store with manual clocks: a scheduler drawn from the seed joins,
/// renews and drops workers, opens and closes observers, acquires, renews and releases leases, produces
/// with fences, and lets time pass — now and then longer than every TTL. The node's own timers (presence
/// sweep, lease expiry, assignment deadlines) sleep on the manual clock, so after each step the run waits
/// until all three are parked again, and then checks its invariants (`NodeSimulation+Invariants.swift`).
///
/// Clients call the node's services directly (no transport), so each step is one awaited call and a
/// seed replays the same run.
final class NodeSimulation {
    /// Sizes of one run.
    struct Shape {
        var steps = 500
        var workerSlots = 5
        var keys = ["alpha", "beta", "gamma"]
        var holders = ["h0", "h1", "h2", "h3"]
        var maxObservers = 3
        /// The presence TTL floor: short, so pauses outlive TTLs often.
        var ttlFloorMs: Int64 = 300
    }

    /// The run's space; each key's holders write to the segment named after the key.
    static let space = "sim"

    let seed: UInt64
    let shape: Shape
    var random: SplitMix64
    let clock: ManualMonotonicClock
    let node: Node
    var model = SimulationModel()
    /// The step being run (1-based; 0 while opening), for failure reports.
    private(set) var step = 0
    /// What the step did, for failure reports.
    var action = "open"
    /// Invariant violations, each naming the seed, the step and its action.
    private(set) var violations: [String] = []
    /// Each step's action and the node's state after it: two runs of one seed give the same trace.
    private(set) var trace: [String] = []

    private init(seed: UInt64, shape: Shape, node: Node, clock: ManualMonotonicClock) {
        self.seed = seed
        self.shape = shape
        self.node = node
        self.clock = clock
        random = SplitMix64(seed: seed)
        var ids = SplitMix64(seed: ~seed)
        model.workerIDs = (0..<shape.workerSlots).map { _ in WireUUID(high: ids.next(), low: ids.next()) }
    }

    /// A node over a fresh memory store on manual clocks, its timers parked.
    static func start(seed: UInt64, shape: Shape = Shape()) async throws -> NodeSimulation {
        let clock = ManualMonotonicClock(startMs: 1_000_000)
        let wall = ManualWallClock()
        var configuration = NodeConfiguration()
        configuration.monotonicClock = clock
        configuration.wallClock = wall
        configuration.inventory.engine = InventoryLimits(ttlFloorMs: shape.ttlFloorMs, sweepIntervalMs: 5_000)
        let node = try await Node(storeID: WireUUID(high: seed, low: 1), store: MemoryStore(clock: wall),
                                  configuration: configuration)
        let simulation = NodeSimulation(seed: seed, shape: shape, node: node, clock: clock)
        try await simulation.settle()
        return simulation
    }

    /// Runs every step, checking the invariants after each; stops at the first step that breaks one.
    func run() async throws {
        for index in 1...shape.steps {
            step = index
            try await runOneStep()
            try await settle()
            await checkInvariants()
            trace.append(stateLine())
            if !violations.isEmpty { return }
        }
    }

    /// The step's action and the node's state: clock, registry revision and workers, live leases.
    private func stateLine() -> String {
        let leases = node.leases.list(prefix: "", limit: 1_000).map { "\($0.key)=\($0.holder)#\($0.fence)" }
        let inventory = node.inventory.current
        return "\(step) \(action) | t=\(nowMs) rev=\(inventory.revision) workers=\(inventory.workers.count) \(leases.joined(separator: ","))"
    }

    func close() async {
        await node.close()
    }

    /// Records a broken invariant with what replays it.
    func violated(_ what: String) {
        violations.append("seed \(seed) step \(step) (\(action)): \(what) — replay with COORDD_SIM_SEED=\(seed)")
    }

    /// Waits until the node's three timers (presence sweep, lease ticker, assignment timer) are asleep on the
    /// manual clock again: whatever the last step woke has run.
    func settle() async throws {
        let clock = clock
        try await withDeadline(seconds: 30) { await clock.waitForSleepers(Node.timersOnTheClock) }
    }

    var nowMs: Int64 { clock.nowMs() }

    func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }

    func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    func between(_ low: Int64, _ high: Int64) -> Int64 { low + Int64(random.next() % UInt64(high - low + 1)) }

    // MARK: The scheduler

    private func runOneStep() async throws {
        switch random.next() % 100 {
        case 0..<12: joinWorker()
        case 12..<30: renewWorker()
        case 30..<35: closeWorker()
        case 35..<40: openObserver()
        case 40..<43: closeObserver()
        case 43..<58: try await acquire()
        case 58..<66: try await renewLease()
        case 66..<72: try await release()
        case 72..<84: try await produce()
        default: passTime()
        }
    }

    private func passTime() {
        // Mostly short steps; sometimes a pause longer than every TTL in the run.
        let ms = chance(15) ? between(2_000, 6_000) : between(1, 400)
        action = "time passes \(ms) ms"
        clock.advance(byMs: ms)
    }
}
