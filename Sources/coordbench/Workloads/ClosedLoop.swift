import CoordBenchKit
import Glibc
import Synchronization
import Transport

/// One client of a closed-loop workload: it was set up (connected, holding what it needs) in its own
/// task and performs one round at a time, never more than one round in flight.
protocol ClientSession: AnyObject {
    /// Closes the session's connection from any task (the watchdog's way to end a hung request).
    var closer: @Sendable () -> Void { get }
    /// Performs one round and returns how many operations it completed (1, or the pipeline depth).
    func round() async throws -> Int
    /// Releases what the session holds and closes its connection.
    func finish() async
    /// The loop the session's answers arrive on, where its rounds run with `--clients-on-loops` (nil: in
    /// every run on the global executor).
    var eventLoop: EventLoop? { get }
}

/// The measured interval of a run.
struct MeasureWindow: Sendable {
    var start: ContinuousClock.Instant
    var end: ContinuousClock.Instant
}

/// Suspends arriving tasks until `count` have arrived, then releases them all at once with the
/// measured window, which begins a warm-up after the release: every client finishes its set-up before
/// any starts its loop.
final class StartGate: Sendable {
    private struct State {
        var arrived = 0
        var failed = false
        var window: MeasureWindow?
        var waiters: [CheckedContinuation<MeasureWindow?, Never>] = []
    }

    private let count: Int
    private let warmup: Duration
    private let measured: Duration
    private let state = Mutex(State())

    init(count: Int, warmup: Duration, measured: Duration) {
        self.count = count
        self.warmup = warmup
        self.measured = measured
    }

    /// Waits for the others; the window, or nil when one of them failed its set-up (then nobody runs).
    func arrive() async -> MeasureWindow? {
        await withCheckedContinuation { continuation in
            let release = state.withLock { s -> (MeasureWindow?, [CheckedContinuation<MeasureWindow?, Never>])? in
                if s.failed { return (nil, [continuation]) }
                s.arrived += 1
                s.waiters.append(continuation)
                guard s.arrived == count else { return nil }
                let start = ContinuousClock.now + warmup
                let window = MeasureWindow(start: start, end: start + measured)
                s.window = window
                defer { s.waiters = [] }
                return (window, s.waiters)
            }
            guard let (window, waiters) = release else { return }
            for waiter in waiters { waiter.resume(returning: window) }
        }
    }

    /// A client's set-up failed: release everyone waiting, telling them not to run.
    func fail() {
        let waiters = state.withLock { s -> [CheckedContinuation<MeasureWindow?, Never>] in
            s.failed = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }
}

/// How long a closed-loop workload may take to set up, and to finish its last rounds after the window.
enum ClosedLoopLimits {
    /// Connecting and preparing every client (a lease each, a connection each).
    static let setupSeconds = 120.0
    /// The last round of every client after the window ends.
    static let finishSeconds = 30.0
}

/// What one client saw in the measured window.
struct ClientTally: Sendable {
    var operations = 0
    var latencies = Samples()
}

/// What a closed-loop run measured.
struct ClosedLoopOutcome {
    var operations: Int
    var elapsed: Duration
    var latencies: Samples
    var serverCPUMicrosPerOp: Double?
    /// coordbench's own CPU per operation: when it nears the time per operation the machine has,
    /// the client, not the server, bounds the figure.
    var clientCPUMicrosPerOp: Double?
}

/// Runs `clients` sessions in closed loops: all are set up first, then each performs rounds for the
/// warm-up and the measured window. Operations count when they complete inside the window; each
/// round's latency is recorded for every round that ended inside it. The server's CPU time is read at
/// the window's edges.
func runClosedLoop(
    clients: Int, sizes: BenchSizes, serverPID: Int32?,
    makeSession: @escaping @Sendable (Int) async throws -> any ClientSession
) async throws -> ClosedLoopOutcome {
    let gate = StartGate(count: clients + 1, warmup: .seconds(sizes.warmupSeconds), measured: .seconds(sizes.seconds))
    let watchdog = Watchdog(limit: .now + .seconds(ClosedLoopLimits.setupSeconds))
    defer { watchdog.stop() }
    return try await withThrowingTaskGroup(of: ClientTally.self) { group in
        for index in 0..<clients {
            group.addTask {
                let session: any ClientSession
                do {
                    session = try await makeSession(index)
                } catch {
                    gate.fail()
                    throw error
                }
                watchdog.closers.add(session.closer)
                guard let window = await gate.arrive() else {
                    await session.finish()
                    return ClientTally()
                }
                let tally: ClientTally
                do {
                    tally = try await withTaskExecutorPreference(sizes.clientsOnLoops ? session.eventLoop : nil) {
                        var tally = ClientTally()
                        while true {
                            let began = ContinuousClock.now
                            if began >= window.end { break }
                            let done = try await session.round()
                            let ended = ContinuousClock.now
                            if ended >= window.start && ended <= window.end {
                                tally.operations += done
                                tally.latencies.record(ended - began)
                            }
                        }
                        return tally
                    }
                } catch {
                    await session.finish()
                    throw error
                }
                await session.finish()
                return tally
            }
        }
        guard let window = await gate.arrive() else {
            // A set-up failed: its error comes out of the group.
            while try await group.next() != nil {}
            throw PeerError("a client failed to set up")
        }
        watchdog.extend(to: window.end + .seconds(ClosedLoopLimits.finishSeconds))
        try await Task.sleep(until: window.start)
        let meter = serverPID.map { CPUMeter([$0]) }
        let clientMeter = CPUMeter([getpid()])
        try await Task.sleep(until: window.end)
        let cpuSeconds = meter?.elapsed()
        let clientSeconds = clientMeter.elapsed()
        var total = ClientTally()
        for try await tally in group {
            total.operations += tally.operations
            total.latencies.merge(tally.latencies)
        }
        if watchdog.expired { throw PeerError("clients still waiting for answers \(ClosedLoopLimits.finishSeconds) s after the window") }
        let perOp = { (seconds: Double?) in seconds.flatMap { total.operations > 0 ? $0 * 1e6 / Double(total.operations) : nil } }
        return ClosedLoopOutcome(operations: total.operations, elapsed: window.end - window.start, latencies: total.latencies,
                                 serverCPUMicrosPerOp: perOp(cpuSeconds), clientCPUMicrosPerOp: perOp(clientSeconds))
    }
}
