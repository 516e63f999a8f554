import CoordClient
import CoordTestKit
import Foundation
import StreamCore
import Synchronization
import Testing
import Transport

/// The real `coordd` binary: started on port 0 with a temporary data directory, used over WebSocket,
/// stopped with SIGTERM in the middle of a produce and a presence stream.
@Suite(.serialized)
struct DaemonShutdownTests {
    /// The highest sequence the producer saw acknowledged.
    final class Acknowledged: Sendable {
        let sequence = Atomic<UInt64>(0)
    }

    static func client(port: Int) throws -> (CoordClient, WebSocketProvider) {
        let provider = try WebSocketProvider(url: "ws://127.0.0.1:\(port)", group: TestNetwork.group)
        return (CoordClient(provider: provider, store: .defaultStore), provider)
    }

    static func port(_ address: String) throws -> Int {
        try #require(address.split(separator: ":").last.flatMap { Int($0) })
    }

    @Test(.timeLimit(.minutes(2)))
    func sigtermDuringProduceAndPresenceExitsZeroAndKeepsEveryAcknowledgedEntry() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-daemon")
        defer { scratch.remove() }
        let arguments = ["--listen", "127.0.0.1:0", "--data-dir", scratch.path + "/data", "--shutdown-grace", "5s"]
        let first = try DaemonProcess(arguments: arguments, logPath: scratch.path + "/first.log")
        defer { first.stop() }
        let port = try Self.port(try await first.listeningAddress())

        #expect(try await httpGet(port: port, path: "/healthz") == (200, "ok coordd \(BuildInfo.version)\n"))
        #expect(try await httpGet(port: port, path: "/readyz") == (200, "ready\n"))

        let (client, provider) = try Self.client(port: port)
        // A raw presence stream rather than a registration, which would register again after the drain.
        let presence = try await client.open(SubscribeWorkers(workerID: .random(), heartbeatIntervalSeconds: 5))
        let presenceEnd = Task { () -> StreamsError? in
            do throws(StreamsError) {
                // Bounded: heartbeats every 5 s, and the daemon stops within seconds.
                for _ in 0..<1_000 where try await presence.receive() == nil { return nil }
                return .internalError("the presence stream did not end")
            } catch {
                return error
            }
        }
        let acknowledged = Acknowledged()
        let producer = Task { () -> StreamsError? in
            // Bounded: the daemon stops long before 100,000 produces.
            for _ in 0..<100_000 {
                let next = acknowledged.sequence.load(ordering: .acquiring) + 1
                let records = (0..<10).map { Record(sequence: next + UInt64($0), payload: Array("entry-\(next + UInt64($0))".utf8)) }
                do throws(StreamsError) {
                    let statuses = try await client.produce(space: "orders", segment: "a", records: records)
                    if let last = statuses.last?.lastSequence { acknowledged.sequence.store(last, ordering: .releasing) }
                } catch {
                    return error
                }
            }
            return nil
        }
        // A few acknowledged produces are enough; a loaded machine may manage only a few per second.
        try #require(await eventually(seconds: 60) { acknowledged.sequence.load(ordering: .acquiring) >= 30 })

        let metrics = try await httpGet(port: port, path: "/metrics")
        #expect(metrics.status == 200)
        func sample(_ series: String) -> Double? {
            metrics.body.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
        }
        // The client's WebSocket; this request's own connection is no client connection.
        #expect(sample("coordd_connections") == 1)
        #expect(sample("coordd_workers") == 1)
        #expect(sample("coordd_leases_held") == 0)
        #expect((sample("coordd_streams_total{operation=\"produce\"}") ?? 0) >= 3)
        #expect((sample("coordd_produced_entries_total") ?? 0) >= 30)
        #expect((sample("coordd_fsync_duration_seconds_count") ?? 0) >= 3, "one flush per acknowledged produce at least")

        first.signal(SIGTERM)
        let exit = try await first.waitForExit(seconds: 15)
        #expect(exit.reason == .exit && exit.status == 0, "log:\n\(first.logText)")
        #expect(exit.elapsed < .seconds(5), "the drain took \(exit.elapsed), longer than the 5 s grace")
        let producerError = await producer.value
        #expect(producerError != nil, "the produce loop ended because the daemon went away")
        let ended = await presenceEnd.value
        #expect(ended == .shuttingDown, "the presence stream ends with the drain's close frame: \(String(describing: ended))")
        #expect(first.logText.contains("msg=\"signal received, draining\" signal=SIGTERM"))
        #expect(first.logText.contains("msg=stopped"))
        await provider.close()

        let acked = acknowledged.sequence.load(ordering: .acquiring)
        let second = try DaemonProcess(arguments: arguments, logPath: scratch.path + "/second.log")
        defer { second.stop() }
        let secondPort = try Self.port(try await second.listeningAddress())
        let (again, againProvider) = try Self.client(port: secondPort)
        var sequences: [UInt64] = []
        for try await entry in again.consumeSegment(ConsumeSegment(space: "orders", segment: "a")) {
            #expect(entry.payload == Array("entry-\(entry.sequence)".utf8))
            sequences.append(entry.sequence)
        }
        try #require(sequences.count >= Int(acked), "acknowledged \(acked), found \(sequences.count) after the restart")
        #expect(sequences == Array(1...UInt64(sequences.count)), "entries are contiguous from 1")
        await againProvider.close()
        second.signal(SIGINT)
        let secondExit = try await second.waitForExit(seconds: 15)
        #expect(secondExit.status == 0 && secondExit.reason == .exit)
    }

    @Test(.timeLimit(.minutes(1)))
    func coordctlTalksToTheDaemonOverWebSocket() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-ctl")
        defer { scratch.remove() }
        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--storage", "memory"], logPath: scratch.path + "/d.log")
        defer { daemon.stop() }
        let server = "ws://" + (try await daemon.listeningAddress())

        let produce = try await runCoordctl(["produce", "orders", "a", "--server", server], stdin: "one\ntwo\n")
        #expect(produce.status == 0, "\(produce.err)")
        #expect(produce.out == "produced 2 records to orders/a: sequences 1-2\n")
        let consume = try await runCoordctl(["consume", "orders", "a", "--json", "--server", server])
        #expect(consume.out.split(separator: "\n").count == 2)
        let lease = try await runCoordctl(["lease", "acquire", "p", "--holder", "me", "--server", server])
        #expect(lease.out.hasPrefix("acquired \"p\" for holder me"))
        let refused = try await runCoordctl(["lease", "acquire", "p", "--holder", "you", "--server", server])
        #expect(refused.status == 1 && refused.err.hasPrefix("error: lease_not_acquired:"))
        let invalid = try await runCoordctl(["lease", "acquire", "p", "--ttl", "25h", "--server", server])
        #expect(invalid.status == 1 && invalid.err == "error: invalid_request: ttl_seconds exceeds maximum of 86400\n")
        let status = try await runCoordctl(["status", "--server", server])
        #expect(status.out.contains("storage             memory"))

        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(seconds: 15).status == 0)
        let gone = try await runCoordctl(["status", "--server", server])
        #expect(gone.status == 3 && gone.err.contains("hint: nothing listens at"), "no daemon to talk to: \(gone.err)")
    }

    @Test func aBadConfigurationExitsWith2AndNamesTheFlag() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-bad")
        defer { scratch.remove() }
        let daemon = try DaemonProcess(arguments: ["--listen", "0.0.0.0:0"], logPath: scratch.path + "/d.log")
        defer { daemon.stop() }
        let exit = try await daemon.waitForExit(seconds: 10)
        #expect(exit.status == 2)
        #expect(daemon.logText.hasPrefix("coordd: --listen: refusing to listen on 0.0.0.0:0 without authentication"))
    }
}

/// Runs the built `coordctl` with `arguments` and `stdin`; returns its status and output.
func runCoordctl(_ arguments: [String], stdin: String = "") async throws -> (status: Int32, out: String, err: String) {
    try await runProgram(try DaemonProcess.executable("coordctl"), arguments, stdin: stdin)
}

/// Runs the program at `path` with `arguments` and `stdin` (and no `COORDD_*` variables); returns its
/// status and output (``ChildProcess``: output through files, never pipes another child could inherit).
func runProgram(_ path: String, _ arguments: [String], stdin: String = "") async throws -> (status: Int32, out: String, err: String) {
    let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("COORDD_") }
    let outcome = try await ChildProcess.run(path, arguments, stdin: Array(stdin.utf8), environment: environment)
    return (outcome.status, outcome.out, outcome.err)
}
