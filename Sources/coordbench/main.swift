// coordbench: measures coordd (and, in the same run, the peers it is compared with) and prints
// throughput and latency percentiles. Benchmarks are never part of `swift test`.
import CoordBenchKit
import Foundation
import Transport

let usage = """
    usage: coordbench WORKLOAD [options]

    workloads (each on coordd, and on every --peer in the same run):
      lease-renew            C clients each renew their own lease, one request in flight (--clients 50)
      lease-renew-pipelined  the same with --depth renewals in flight per client (16)
                             (coordd: on each client's lease_renewals stream; --renew-per-stream: a
                             stream per renewal, streamkit's way)
      lease-acquire          acquire + release of fresh keys, durable (--clients 50)
                             (coordd: on each client's lease_ops stream; --acquire-per-stream: a
                             stream per request, streamkit's way)
      fanout                 M workers, N observers, one join or leave every 1/R s; the observers'
                             connects are the connect storm (--changes 100 --rate 20; one variant with
                             --workers M --observers N [--deltas])
      produce                P producers append batches, fsync on, then P consumers read it all back
                             (--producers 8 --batch 100 --payload 100)
      connections            K workers on their own connections with heartbeats, held (--connections
                             10000 --heartbeat-ms 5000 --hold 60)
      all                    every workload above, in that order
      store-produce          durable produce into the file store in-process (fsync on), coordd only
                             --producers N (8) --records N per producer (50000) --batch N (100) --payload BYTES (100)
      store-reopen           reopen a store written by store-produce --keep and time the index rebuild --dir DIR
      lease-churn            acquire/release pairs of fresh keys against an in-process file store node while
                             live leases stay held; then the lease log's size and the store's open time and
                             memory in a fresh process --pairs N (100000) --live L (100) --clients C (50)
                             [--dir DIR --keep]
      assignments            M members of one group over P partitions on coordd: time from a member's death
                             or join to a settled assignment, and partitions moved per change
                             --members M (100) --partitions P (1024) --cycles N (20)
      report --from FILE     print the tables of a run saved with --json / --json-out (--markdown)

    systems:
      --coordd PATH          start this coordd executable (own temporary data directory and port)
                             (default: .build/release/coordd when it exists)
      --coordd-url URL       use a running daemon instead (ws://127.0.0.1:7070); --coordd-pid PID
                             for its CPU and memory figures
      --coordd-postgres [URL]  also measure coordd on this PostgreSQL database (a second daemon of the
                             same executable, --storage postgres; the system coordd-postgres); without
                             a URL, the one bench/peers.sh started
      --peer etcd|redis      also measure the peer (repeatable); started by bench/peers.sh start, whose
                             state (ports, PIDs) is read from --peers-dir (bench/.peers)
      --etcd HOST:PORT, --redis HOST:PORT, --etcd-pid PID, --redis-pid PID   override that state

    cluster (several coordd daemons on one PostgreSQL; lease-renew and fanout run once with the clients
    (fanout: the observers) on a daemon that does not own the store, once on its owner; all = the three):
      --cluster N            start N daemons of --coordd PATH on the PostgreSQL of bench/peers.sh (or
                             --postgres-url URL), each with its own node id and port, one cluster secret
                             [--ownership-ttl DURATION (coordd's default, 10s)]
      --cluster-urls U1,U2,…  use running daemons instead (ws://host:port; --postgres-url their database)
      failover               kill -9 of a store's owner, time until a client on another daemon is answered;
                             the owner is restarted after each round (--rounds 5; --cluster N only)

    options:
      --seconds S (5) --warmup S (1)   measured window and warm-up of each throughput workload
      --clients-on-loops               every system's lease clients and fan-out observers run on their
                                       connection's event loop, not the global executor
      --json                           print JSON instead of tables
      --markdown                       print the tables as Markdown (docs/performance.md holds one)
      --json-out FILE                  also write the JSON to FILE
      --dir DIR, --keep                store-produce: where to put the store, and keep it
    """

let rawArguments = Array(CommandLine.arguments.dropFirst())
// Asking for help is not a mistake: the usage on standard output, status 0.
if rawArguments.contains("--help") || rawArguments.contains("-h") || rawArguments.first == "help" {
    print(usage)
    exit(0)
}
guard let workloadName = rawArguments.first, !workloadName.hasPrefix("-") else {
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(2)
}
let options = Options(Array(rawArguments.dropFirst()))
let json = options.flag("json")

do {
    switch workloadName {
    case "store-produce":
        let directory = options.value("dir") ?? NSTemporaryDirectory() + "coordbench-\(UUID().uuidString)"
        let result = try await StoreWorkloads.produce(
            directory: directory, producers: options.int("producers") ?? 8, perProducer: options.int("records") ?? 50_000,
            batch: options.int("batch") ?? 100, payloadBytes: options.int("payload") ?? 100)
        if !options.flag("keep") { try? FileManager.default.removeItem(atPath: directory) }
        print(json ? Report.json([result]) : Report.table([result]))
    case "lease-churn":
        let directory = options.value("dir") ?? NSTemporaryDirectory() + "coordbench-\(UUID().uuidString)"
        let result = try await LeaseChurn.run(
            directory: directory, pairs: options.int("pairs") ?? 100_000, live: options.int("live") ?? 100,
            clients: options.int("clients") ?? 50)
        if !options.flag("keep") { try? FileManager.default.removeItem(atPath: directory) }
        print(json ? Report.json([result]) : Report.table([result]))
    case "lease-churn-open":
        // The reopening half of lease-churn, run by it in a fresh process.
        guard let directory = options.value("dir") else {
            print(usage)
            exit(2)
        }
        print(try await LeaseChurn.reopen(directory: directory))
    case "assignments":
        let results = try await AssignmentsWorkload.run(options: options)
        print(json ? Report.json(results) : options.flag("markdown") ? Report.markdown(results) : Report.table(results))
    case "report":
        // Prints the tables of a run saved with --json or --json-out.
        guard let path = options.value("from") else {
            print(usage)
            exit(2)
        }
        let results = try Report.results(fromJSON: Data(contentsOf: URL(fileURLWithPath: path)))
        print(options.flag("markdown") ? Report.markdown(results) : Report.comparison(results))
    case "store-reopen":
        guard let directory = options.value("dir") else {
            print(usage)
            exit(2)
        }
        let result = try StoreWorkloads.reopen(directory: directory)
        print(json ? Report.json([result]) : Report.table([result]))
    default:
        let results: [WorkloadResult]
        if ClusterSession.isRequested(options) {
            results = try await ClusterSession.run(workloadName, options: options)
        } else {
            guard let workloads = Workload.named(workloadName) else {
                print(usage)
                exit(2)
            }
            results = try await BenchSession.run(workloads, options: options)
        }
        if let path = options.value("json-out") {
            try Data(Report.json(results).utf8).write(to: URL(fileURLWithPath: path))
        }
        print(json ? Report.json(results) : options.flag("markdown") ? Report.markdown(results) : Report.comparison(results))
    }
} catch {
    FileHandle.standardError.write(Data("coordbench: \(error)\n".utf8))
    exit(1)
}
