import CoordClient
import CoordTestKit
import Coordinator
import Foundation
import StreamCore
import Testing
import Transport

/// A real daemon seen from outside: what `/metrics` shows over the network, and the lines it writes.
@Suite(.serialized) struct DaemonObservabilityTests {
    static func scrape(_ daemon: Daemon) async throws -> String {
        let url = try WebSocketURL(parsing: "ws://127.0.0.1:\(daemon.localAddress.port)")
        let response = try await HTTPProbe.get(url: url, path: "/metrics", tls: nil, loop: TestNetwork.group.next())
        #expect(response.status == 200)
        return response.body
    }

    @Test func aScrapeIsNotAConnectionAndWebSocketConnectionsAreCountedAndLogged() async throws {
        let lines = LineCollector()
        let daemon = try await Daemon.start(DaemonLifecycleTests.configuration(.memory, dataDirectory: "-"),
                                            logger: Logger(level: .debug, sink: lines.sink), loopCount: 1)
        var text = try await Self.scrape(daemon)
        #expect(PrometheusTextCheck.value("coordd_connections", in: text) == 0)
        text = try await Self.scrape(daemon)
        #expect(PrometheusTextCheck.value("coordd_connections", in: text) == 0, "earlier scrapes are not connections")

        let provider = try WebSocketProvider(url: "ws://127.0.0.1:\(daemon.localAddress.port)", group: TestNetwork.group)
        _ = try await CoordClient(provider: provider, store: .defaultStore).spaces()
        for _ in 0..<3 {
            text = try await Self.scrape(daemon)
            #expect(PrometheusTextCheck.value("coordd_connections", in: text) == 1, "a scrape does not count itself")
        }
        #expect(PrometheusTextCheck.value("coordd_connections_opened_total", in: text) == 1)
        #expect(lines.all.contains { $0.contains("level=info msg=\"connection opened\" peer=127.0.0.1:") })

        await provider.close()
        #expect(await eventually {
            (try? await PrometheusTextCheck.value("coordd_connections", in: Self.scrape(daemon))) == 0
        })
        #expect(lines.all.contains { $0.contains("level=info msg=\"connection closed\" peer=127.0.0.1:") && $0.contains(" reason=") })
        await daemon.shutdown()
    }

    @Test func theExpositionIsValidAndTheProcessFiguresAreSane() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-observe")
        defer { scratch.remove() }
        let daemon = try await Daemon.start(DaemonLifecycleTests.configuration(.file, dataDirectory: scratch.path + "/data"),
                                            logger: Logger(sink: { _ in }), loopCount: 1)
        let provider = try WebSocketProvider(url: "ws://127.0.0.1:\(daemon.localAddress.port)", group: TestNetwork.group)
        let client = CoordClient(provider: provider, store: .defaultStore)
        _ = try await client.produce(space: "s", segment: "g", records: makeRecords(3, size: 1_000))
        _ = try await client.acquire(key: "k", holder: "h", ttl: .seconds(30))
        let text = try await Self.scrape(daemon)
        #expect(PrometheusTextCheck.problems(text) == [])

        let cpu = try #require(PrometheusTextCheck.value("process_cpu_seconds_total", in: text))
        let resident = try #require(PrometheusTextCheck.value("process_resident_memory_bytes", in: text))
        let open = try #require(PrometheusTextCheck.value("process_open_fds", in: text))
        let max = try #require(PrometheusTextCheck.value("process_max_fds", in: text))
        let start = try #require(PrometheusTextCheck.value("process_start_time_seconds", in: text))
        let now = Date().timeIntervalSince1970
        #expect(cpu > 0 && cpu < 86_400 * 64, "\(cpu)")
        #expect(resident > Double(1 << 20) && resident < Double(1 << 40), "\(resident)")
        #expect(open >= 4 && open <= max, "\(open) of \(max)")
        // This test process started the daemon: it began at most a day before now, and not after it.
        #expect(start > now - 86_400 && start <= now + 1, "\(start) vs \(now)")
        #expect(PrometheusTextCheck.value("coordd_build_info{version=\"\(BuildInfo.version)\"}", in: text) == 1)

        // The store's bytes on disk: its two logs' files, the zeros reserved after their data included.
        let disk = try #require(PrometheusTextCheck.value("coordd_store_disk_bytes{store=\"\(WireUUID.defaultStore)\"}", in: text))
        #expect(disk == Double(try Self.logFileBytes(in: scratch.path + "/data/" + WireUUID.defaultStore.description)))
        #expect(PrometheusTextCheck.value("coordd_lease_operations_total{operation=\"acquire\",outcome=\"granted\"}", in: text) == 1)
        await provider.close()
        await daemon.shutdown()
    }

    /// The sizes of the `.log` files in a store's directory and its `leases` directory.
    static func logFileBytes(in directory: String) throws -> Int {
        var total = 0
        for sub in [directory, directory + "/leases"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: sub) where name.hasSuffix(".log") {
                let attributes = try FileManager.default.attributesOfItem(atPath: sub + "/" + name)
                total += (attributes[.size] as? Int) ?? 0
            }
        }
        return total
    }
}
