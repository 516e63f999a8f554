import CoordBenchKit
import CoordClient
import Coordinator
import Foundation
import StreamCore

/// `lease-churn`: what a long lease history costs. `--pairs` acquire/release pairs on fresh keys (from
/// `--clients` concurrent clients) while `--live` leases stay held, against an in-process node over a file
/// store; then the store is reopened in a fresh process (`lease-churn-open`), which reports how long the
/// open took and how much resident memory it added. The lease log's bytes on disk are read after the
/// churn, with the store closed.
enum LeaseChurn {
    /// The store the workload uses.
    static let store = WireUUID.defaultStore

    static func run(directory: String, pairs: Int, live: Int, clients: Int) async throws -> WorkloadResult {
        let manager = try await open(directory: directory)
        let client = CoordClient(provider: manager.inProcessProvider(), store: store)
        for n in 0..<live {
            let granted = try await client.acquire(key: "live-\(n)", holder: "keeper", ttl: .seconds(86_400))
            guard granted.ok else { throw PeerError("live lease \(n) was refused") }
        }
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: Samples.self) { group in
            for worker in 0..<clients {
                group.addTask { try await churn(client, worker: worker, of: clients, pairs: pairs) }
            }
            var all = Samples()
            for try await samples in group { all.merge(samples) }
            return all
        }
        let elapsed = ContinuousClock.now - started
        await manager.close()

        let storeDirectory = directory + "/" + store.description
        let leaseLog = try directorySize(storeDirectory + "/" + FileStore.leaseLogDirectory)
        let mainLog = try directorySize(storeDirectory)
        let reopened = try reopenMedian(directory: directory)
        return WorkloadResult(
            workload: "lease-churn (\(pairs) pairs, \(live) live, \(clients) clients)", system: "coordd", operations: pairs,
            elapsed: elapsed, latencies: latencies,
            metrics: [
                Metric("lease log KB", Double(leaseLog.bytes) / 1024), Metric("lease log files", Double(leaseLog.files)),
                Metric("entry log KB", Double(mainLog.bytes) / 1024), Metric("open ms", reopened.openMs),
                Metric("open RSS +MB", reopened.rssIncreaseMB), Metric("leases after open", Double(reopened.leases)),
            ],
            notes: [("op", "acquire + release of a fresh key, durable"),
                    ("open", "store + node, in a fresh process after an empty store's open; median of 3")])
    }

    /// Client `worker` of `clients`: every `clients`-th of the `pairs` pairs, one at a time.
    private static func churn(_ client: CoordClient, worker: Int, of clients: Int, pairs: Int) async throws -> Samples {
        var samples = Samples()
        for n in stride(from: worker, to: pairs, by: clients) {
            let t0 = ContinuousClock.now
            let key = "churn-\(n)"
            let acquired = try await client.acquire(key: key, holder: "w\(worker)", ttl: .seconds(60))
            if !acquired.ok { throw PeerError("acquire \(n) was refused") }
            let released = try await client.release(key: key, holder: "w\(worker)")
            if !released.ok { throw PeerError("release \(n) was refused") }
            samples.record(ContinuousClock.now - t0)
        }
        return samples
    }

    /// What the reopening child measured.
    struct Reopened: Codable {
        var openMs: Double
        var rssIncreaseMB: Double
        var leases: Int
    }

    /// `lease-churn-open`: opens the store's node in this (fresh) process and prints what it took as one
    /// JSON line. An empty store is opened and closed first, so the figures leave out what the first open
    /// of a process costs whatever the store (threads, the runtime's first allocations).
    static func reopen(directory: String) async throws -> String {
        let warmUp = NSTemporaryDirectory() + "coordbench-warm-up-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: warmUp) }
        try await open(directory: warmUp).close()

        let before = ProcessStats.memory(getpid())?.rss ?? 0
        let started = ContinuousClock.now
        let manager = try await open(directory: directory)
        let openMs = (ContinuousClock.now - started).seconds * 1_000
        let after = ProcessStats.memory(getpid())?.rss ?? 0
        let leases = try await CoordClient(provider: manager.inProcessProvider(), store: store).status().leases
        await manager.close()
        let result = Reopened(openMs: openMs, rssIncreaseMB: Double(after - before) / 1e6, leases: Int(leases))
        return String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
    }

    /// A node manager over the file stores in `directory`, with the workload's store open.
    private static func open(directory: String) async throws -> NodeManager {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let manager = NodeManager { id throws(StreamsError) in try FileStore(directory: directory + "/" + id.description) }
        _ = try await manager.node(for: store)
        return manager
    }

    /// Reopens the store in three fresh processes and keeps the median of each figure.
    private static func reopenMedian(directory: String) throws -> Reopened {
        let runs = try (0..<3).map { _ in try reopenInChild(directory: directory) }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        return Reopened(openMs: median(runs.map(\.openMs)), rssIncreaseMB: median(runs.map(\.rssIncreaseMB)),
                        leases: runs.map(\.leases).min() ?? 0)
    }

    /// Runs `coordbench lease-churn-open` on `directory` and reads its line.
    private static func reopenInChild(directory: String) throws -> Reopened {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["lease-churn-open", "--dir", directory]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PeerError("lease-churn-open exited with \(process.terminationStatus)") }
        return try JSONDecoder().decode(Reopened.self, from: data)
    }

    /// Bytes and number of the log files directly in `directory`.
    private static func directorySize(_ directory: String) throws -> (bytes: Int, files: Int) {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".log") }
        let bytes = try names.reduce(0) { total, name in
            total + (try FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int ?? 0)
        }
        return (bytes, names.count)
    }
}
