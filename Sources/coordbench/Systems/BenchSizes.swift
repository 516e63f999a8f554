/// The sizes and durations of every workload, with their defaults and where each comes from. Each
/// can be changed on the command line (`--clients 100`); docs/performance.md lists them. The defaults
/// make `coordbench all --peer etcd --peer redis` finish in under 10 minutes on a 2-core machine.
struct BenchSizes: Sendable {
    /// Measured seconds of each throughput workload (after its warm-up). Long enough for thousands
    /// of operations per client at coordd's rates and a stable p99; short enough for the time budget.
    var seconds = 5.0
    /// Seconds of load before measuring starts (connections warm, allocators and caches settled).
    var warmupSeconds = 1.0

    /// `lease-renew` clients, one request in flight each: issue 7's C = 50.
    var renewClients = 50
    /// Renewals each client keeps in flight in the pipelined variant.
    var pipelineDepth = 16
    /// coordd's renewals go on a stream per renewal (`LeaseRenew`, streamkit's way; `--renew-per-stream`)
    /// instead of the client's one `lease_renewals` stream (the SDK's ``LeaseRenewalStream``).
    var renewPerStream = false
    /// `lease-acquire` clients.
    var acquireClients = 50
    /// coordd's acquires and releases go on a stream each (streamkit's way; `--acquire-per-stream`)
    /// instead of the client's one `lease_ops` stream (the SDK's ``LeaseOperationStream``).
    var acquirePerStream = false
    /// TTL of every lease the workloads take: long enough that none expires during a run.
    var leaseTTLSeconds = 30
    /// Every system's closed-loop clients and fan-out observers run on their connection's event loop
    /// (`--clients-on-loops`), each woken on the thread its reply arrives on, instead of on the global
    /// executor with a thread woken per reply. Off by default: the round-2 targets were set, and every
    /// earlier run in docs/performance.md made, with clients on the global executor.
    var clientsOnLoops = false

    /// Inventory changes (alternate joins and leaves) per fan-out variant.
    var fanoutChanges = 100
    /// Changes per second (R).
    var fanoutRate = 20.0
    /// Longest wait after the last change for every observer to catch up; an observer that has not
    /// by then counts as missing that change.
    var fanoutDrainSeconds = 15.0
    /// Observers above which the peers skip a fan-out variant (etcd holds one HTTP stream and one
    /// gRPC watch per observer; 10,000 of them measure its gateway, not its watch).
    var peerMaxObservers = 1_000
    /// Connections the registered workers of a coordd fan-out share: workers are many streams on a
    /// few connections, as in a service that runs several workers per process.
    var workerConnections = 8
    /// Connections opened at once during set-up and the connect storm (the rest wait their turn),
    /// below the listen backlog of every system (etcd and Redis use 511 or more).
    var connectConcurrency = 256

    /// `produce` producers, one segment (or stream, or key prefix) each: issue 7's P = 8.
    var producers = 8
    /// Records per produce request (etcd: puts per transaction, which etcd caps at 128).
    var batch = 100
    /// Payload bytes per record: issue 7's 100-byte payloads.
    var payloadBytes = 100

    /// `connections` worker connections: issue 7's K = 10,000.
    var connections = 10_000
    /// Heartbeat period of those workers: issue 7's 5 s.
    var heartbeatMs = 5_000
    /// How long the connections are held after all are up: issue 7's 60 s.
    var holdSeconds = 60.0
    /// Server memory at which the connections ramp is abandoned: the machine (24 GiB) is shared, and a
    /// server far past issue 7's 150 MB bound has failed the workload long before this.
    var maxServerRSSMB = 6_000

    /// The fan-out variants of issue 7: full snapshots with 100 workers and 1,000 observers, deltas
    /// with 1,000 workers and 1,000 then 10,000 observers.
    var fanoutVariants: [FanoutVariant] = [
        FanoutVariant(workers: 100, observers: 1_000, deltas: false),
        FanoutVariant(workers: 1_000, observers: 1_000, deltas: true),
        FanoutVariant(workers: 1_000, observers: 10_000, deltas: true),
    ]

    /// The defaults.
    init() {}

    /// The defaults with every size given in `options` applied.
    init(_ options: Options) throws {
        if let v = options.double("seconds") { seconds = v }
        if let v = options.double("warmup") { warmupSeconds = v }
        if let v = options.int("clients") {
            renewClients = v
            acquireClients = v
        }
        if let v = options.int("depth") { pipelineDepth = v }
        renewPerStream = options.flag("renew-per-stream")
        acquirePerStream = options.flag("acquire-per-stream")
        clientsOnLoops = options.flag("clients-on-loops")
        if let v = options.int("changes") { fanoutChanges = v }
        if let v = options.double("rate") { fanoutRate = v }
        if let v = options.int("peer-max-observers") { peerMaxObservers = v }
        if let v = options.int("producers") { producers = v }
        if let v = options.int("batch") { batch = v }
        if let v = options.int("payload") { payloadBytes = v }
        if let v = options.int("connections") { connections = v }
        if let v = options.int("heartbeat-ms") { heartbeatMs = v }
        if let v = options.double("hold") { holdSeconds = v }
        if let v = options.int("max-server-rss-mb") { maxServerRSSMB = v }
        if let workers = options.int("workers"), let observers = options.int("observers") {
            fanoutVariants = [FanoutVariant(workers: workers, observers: observers, deltas: options.flag("deltas"))]
        }
        guard seconds > 0, warmupSeconds >= 0, renewClients > 0, acquireClients > 0, pipelineDepth > 0,
              fanoutChanges > 0, fanoutRate > 0, producers > 0, batch > 0, payloadBytes > 0, connections > 0,
              heartbeatMs >= 1_000, holdSeconds > 0
        else { throw PeerError("sizes must be positive (and --heartbeat-ms at least 1000)") }
    }
}

/// One fan-out configuration: M registered workers, N observers, snapshots or deltas.
struct FanoutVariant: Sendable {
    var workers: Int
    var observers: Int
    var deltas: Bool

    var name: String {
        "fanout \(deltas ? "deltas" : "snapshots") (\(workers) workers, \(observers) observers)"
    }
}
