import CoordClient
import CoordTestKit
import Coordinator
import Glibc
import Testing
import Transport

@testable import StreamCore

/// A node over file stores with a rate-limited logger on a manual clock, whose lines and metrics the
/// test reads; faults are injected into the stores' logs.
struct FailureHarness: Sendable {
    let directory: TemporaryDirectory
    let clock: ManualWallClock
    let lines: LineCollector
    let logger: Logger
    let metrics: DaemonMetrics
    let manager: NodeManager
    let store = WireUUID.random()

    static let limits: LogRateLimits = {
        var limits = LogRateLimits()
        limits.linesPerInterval = 3
        return limits
    }()

    static func start(catalog: ((String) -> any StoreCatalog)? = nil) throws -> FailureHarness {
        let directory = try TemporaryDirectory(prefix: "coordd-failures")
        let clock = ManualWallClock()
        let lines = LineCollector()
        let logger = Logger(clock: clock, rateLimits: limits, sink: lines.sink)
        let metrics = DaemonMetrics()
        var node = NodeConfiguration()
        node.logger = logger
        node.metrics = metrics
        let manager = NodeManager(configuration: node, catalog: catalog?(directory.path) ?? FileStoreCatalog(root: directory.path))
        return FailureHarness(directory: directory, clock: clock, lines: lines, logger: logger, metrics: metrics, manager: manager)
    }

    var client: CoordClient { CoordClient(provider: manager.inProcessProvider(), store: store) }

    func fileStore() async throws -> FileStore {
        try #require(try await manager.node(for: store).store as? FileStore)
    }

    /// The lines whose message is `message`.
    func lines(_ message: String) -> [String] {
        lines.all.filter { $0.contains("msg=\"\(message)\" ") || $0.contains("msg=\(message) ") }
    }

    func stop() async {
        await manager.close()
        directory.remove()
    }
}

/// Each failure an operator must act on gives one warn line, rate-limited, and a counter; the failure
/// is recognized by the system call's errno carried in the error, never by its text.
@Suite(.serialized) struct FailureReportingTests {
    @Test func aFullDiskOnAProduceIsOneWarnLineAndACounterAndRepeatsAreSummarized() async throws {
        let harness = try FailureHarness.start()
        let file = try await harness.fileStore()
        let client = harness.client
        file.log.faults.arm(.write, errno: ENOSPC)
        let error = await StreamsError.of { _ = try await client.produce(space: "s", segment: "g", records: makeRecords(1)) }
        #expect(error?.name == "storage_error" && error?.cause?.errno == ENOSPC)
        let first = try #require(harness.lines("disk full").first)
        #expect(first.contains("level=warn ") && first.contains(" store=\(harness.store) ") && first.contains(" operation=produce ")
                    && first.contains(" call=pwrite ") && first.contains(" errno=ENOSPC "), "\(first)")
        #expect(harness.metrics.resourceExhaustion.value(["disk", "produce"]) == 1)

        // Seven more in the same second: two more lines (three in all), the rest counted.
        for _ in 0..<7 {
            file.log.faults.arm(.write, errno: ENOSPC)
            #expect(await StreamsError.of { _ = try await client.produce(space: "s", segment: "g", records: makeRecords(1)) } != nil)
        }
        #expect(harness.lines("disk full").count == 3)
        #expect(harness.metrics.resourceExhaustion.value(["disk", "produce"]) == 8, "every failure is counted")
        harness.clock.advance(byMs: FailureHarness.limits.intervalMs)
        harness.logger.flushSuppressed()
        let summary = try #require(harness.lines(Logger.suppressedMessage).first)
        #expect(summary.contains("level=warn ") && summary.contains(" similar=\"disk full\" ") && summary.contains(" suppressed=5 "))
        // The log stopped at the first failure: it stays read-only, with the same cause, until reopened.
        let later = await StreamsError.of { _ = try await client.produce(space: "s", segment: "g", records: makeRecords(1)) }
        #expect(later?.message.contains("read-only") == true && later?.cause?.errno == ENOSPC)
        await harness.stop()
    }

    @Test func aFullDiskOnALeaseFlushIsNamedAsSuchUntilTheLogIsReopened() async throws {
        let harness = try FailureHarness.start()
        let file = try await harness.fileStore()
        let leaseLog = try #require(file.leaseLog as? FileCompactingLog)
        leaseLog.log.faults.arm(.sync, errno: ENOSPC)
        let client = harness.client
        let first = await StreamsError.of { _ = try await client.acquire(key: "k", holder: "a", ttl: .seconds(30)) }
        #expect(first?.name == "storage_error")
        // A failed flush leaves the log read-only; the next append fails for the same cause.
        let second = await StreamsError.of { _ = try await client.acquire(key: "k2", holder: "a", ttl: .seconds(30)) }
        #expect(second?.message.contains("read-only") == true && second?.cause?.errno == ENOSPC)
        let lines = harness.lines("disk full")
        #expect(lines.count == 2 && lines.allSatisfy { $0.contains(" operation=lease_acquire ") && $0.contains(" call=fdatasync ") })
        #expect(harness.metrics.resourceExhaustion.value(["disk", "lease_acquire"]) == 2)
        #expect(harness.metrics.leaseOperations.value(["acquire", "failed"]) == 2)
        await harness.stop()
    }

    @Test func aLogWriterThreadThatCannotStartIsNamedAndCounted() async throws {
        let harness = try FailureHarness.start { root in
            ThreadlessCatalog(root: root)
        }
        let error = await StreamsError.of { _ = try await harness.client.produce(space: "s", segment: "g", records: makeRecords(1)) }
        #expect(error?.cause?.shortage == .threads, "\(String(describing: error))")
        let line = try #require(harness.lines("thread start failed").first)
        #expect(line.contains("level=warn ") && line.contains(" call=pthread_create ") && line.contains(" errno=EAGAIN "))
        #expect(harness.metrics.resourceExhaustion.value(["threads", "produce"]) == 1)
        await harness.stop()
    }

    @Test func aStoreThatCannotOpenForLackOfDescriptorsNamesTheResource() async throws {
        let broken = WireUUID.random()
        let harness = try FailureHarness.start { root in
            FailingCatalog(FileStoreCatalog(root: root), failing: broken, .storage(
                "cannot open store in \(root)/\(broken): opening … failed: Too many open files (errno 24)",
                cause: IOError(errno: EMFILE, call: "open")))
        }
        let error = await StreamsError.of { _ = try await CoordClient(provider: harness.manager.inProcessProvider(), store: broken).spaces() }
        #expect(error?.name == "store_unavailable" && error?.cause?.shortage == .descriptors)
        let line = try #require(harness.lines("store open failed").first)
        #expect(line.contains("level=warn ") && line.contains(" store=\(broken) ") && line.contains(" resource=descriptors "))
        #expect(harness.metrics.storeOpenFailures.value(["descriptors"]) == 1)
        #expect(harness.metrics.resourceExhaustion.value(["descriptors", "store_open"]) == 1)
        await harness.stop()
    }

    @Test func aStoreThatCannotOpenForAnotherReasonIsCountedAsAnError() async throws {
        let broken = WireUUID.random()
        let harness = try FailureHarness.start { root in
            FailingCatalog(FileStoreCatalog(root: root), failing: broken, .storage("log file is damaged at offset 9"))
        }
        _ = await StreamsError.of { _ = try await CoordClient(provider: harness.manager.inProcessProvider(), store: broken).spaces() }
        let line = try #require(harness.lines("store open failed").first)
        #expect(!line.contains(" resource="))
        #expect(harness.metrics.storeOpenFailures.value(["error"]) == 1)
        #expect(!harness.metrics.registry.exposition().contains("coordd_resource_exhaustion_total{"))
        await harness.stop()
    }
}

/// File stores whose entries' log has no writer thread: its pool's threads cannot start, as when the
/// process's thread limit is reached.
struct ThreadlessCatalog: StoreCatalog {
    let root: String

    func contains(_ store: WireUUID) throws(StreamsError) -> Bool { try FileStoreCatalog(root: root).contains(store) }
    func create(_ store: WireUUID) async throws(StreamsError) -> Bool { try await FileStoreCatalog(root: root).create(store) }
    func open(_ store: WireUUID) async throws(StreamsError) -> any StreamStore {
        let memory = MemoryStore()
        let pool = LogWriterPool(threads: 1) { _, _ throws(IOError) in throw IOError.threadCreate(EAGAIN) }
        do {
            let log = try DurableLog.open(directory: root + "/" + store.description, limits: .init(), pool: pool) { _, _, _ in }
            return ThreadlessStore(memory: memory, log: log)
        } catch {
            throw .storage("\(error)")
        }
    }
    var keepsContentsWhenClosed: Bool { false }
}

/// A memory store whose appends first go to a log that cannot write (it has no writer thread).
final class ThreadlessStore: StreamStore {
    let memory: MemoryStore
    let log: DurableLog

    init(memory: MemoryStore, log: DurableLog) {
        self.memory = memory
        self.log = log
    }

    var storageKind: String { "threadless" }
    var limits: StoreLimits { memory.limits }
    func append(_ request: AppendRequest) async throws(StreamsError) -> SegmentStatus {
        _ = try await log.append([LogRecord(kind: 1, payload: [1])])
        return try await memory.append(request)
    }
    func peek(space: String, segment: String) throws(StreamsError) -> Entry? { try memory.peek(space: space, segment: segment) }
    func status(space: String, segment: String) -> SegmentStatus? { memory.status(space: space, segment: segment) }
    func statuses(space: String) -> [SegmentStatus] { memory.statuses(space: space) }
    func readSegment(space: String, segment: String, range: SegmentRange, max: Int) throws(StreamsError) -> [Entry] {
        try memory.readSegment(space: space, segment: segment, range: range, max: max)
    }
    func readSpace(space: String, after: [UInt8], afterTimestamp: Int64, throughTimestamp: Int64, max: Int)
        throws(StreamsError) -> [Entry]
    {
        try memory.readSpace(space: space, after: after, afterTimestamp: afterTimestamp, throughTimestamp: throughTimestamp, max: max)
    }
    func visibleBound(space: String) -> Int64 { memory.visibleBound(space: space) }
    func spaces() -> [String] { memory.spaces() }
    func segments(space: String) -> [String] { memory.segments(space: space) }
    func stats() -> StoreStats { memory.stats() }
    var leaseLog: any CompactingLog { memory.leaseLog }
    func close() async {
        await log.close()
        await memory.close()
    }
}
