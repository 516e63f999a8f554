import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

struct DaemonLifecycleTests {
    static func configuration(_ storage: DaemonConfiguration.Storage, dataDirectory: String) -> DaemonConfiguration {
        var configuration = DaemonConfiguration()
        configuration.listen = ListenAddress(host: "127.0.0.1", port: 0)
        configuration.storage = storage
        configuration.dataDirectory = dataDirectory
        configuration.shutdownGraceMs = 2_000
        return configuration
    }

    @Test(arguments: [DaemonConfiguration.Storage.file, .memory])  // postgres: PostgresDaemonTests
    func aStartedDaemonIsReadyServesClientsAndDrainsOnShutdown(_ storage: DaemonConfiguration.Storage) async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-lifecycle")
        defer { scratch.remove() }
        let lines = LineCollector()
        let daemon = try await Daemon.start(Self.configuration(storage, dataDirectory: scratch.path + "/data"),
                                            logger: Logger(level: .debug, sink: lines.sink), loopCount: 1)
        #expect(daemon.endpoints.readiness == .ready)
        #expect(daemon.localAddress.port != 0)
        #expect(daemon.nodes.openNodes.map(\.storeID) == [.defaultStore], "the default store opens at start")
        #expect(lines.all.contains { $0.contains(" msg=listening addr=127.0.0.1:\(daemon.localAddress.port) ") })

        let provider = try WebSocketProvider(url: "ws://127.0.0.1:\(daemon.localAddress.port)", group: TestNetwork.group)
        let client = CoordClient(provider: provider, store: .defaultStore)
        try await client.produce(space: "s", segment: "g", records: [Record(sequence: 1, payload: Array("hello".utf8))])
        // A raw presence stream rather than a registration, which would register again after the drain.
        let presence = try await client.open(SubscribeWorkers(workerID: .random(), heartbeatIntervalSeconds: 30))
        #expect(await eventually(seconds: 30) { (try? await client.status().workers) == 1 })

        let metrics = daemon.endpoints.respond(to: HTTPRequestHead(method: "GET", target: "/metrics"))
        let text = String(decoding: metrics?.body ?? [], as: UTF8.self)
        for series in ["coordd_connections 1\n", "coordd_workers 1\n", "coordd_produced_entries_total 1\n",
                       "coordd_produced_bytes_total 5\n", "coordd_streams_total{operation=\"produce\"} 1\n",
                       "coordd_stores_open 1\n", "coordd_fsync_duration_seconds_count ", "coordd_leases_held 0\n",
                       "coordd_observers 0\n", "coordd_inventory_deliveries_total ", "# TYPE coordd_stream_errors_total counter\n",
                       "coordd_outbound_bytes_held "] {
            #expect(text.contains(series), "/metrics lacks \(series)")
        }

        await daemon.shutdown()
        #expect(daemon.endpoints.readiness == .shuttingDown)
        #expect(daemon.endpoints.respond(to: HTTPRequestHead(method: "GET", target: "/readyz"))?.status == 503)
        let ended = await Self.end(of: presence)
        #expect(ended == .shuttingDown, "the presence stream ends with the drain's close: \(String(describing: ended))")
        await #expect(throws: StreamsError.self) { _ = try await daemon.nodes.node(for: .defaultStore) }
        #expect(lines.all.last?.contains(" msg=stopped ") == true)
        await daemon.shutdown()
        await provider.close()
    }

    /// How a stream ended: its error, or nil for a clean end (reads at most 1,000 messages).
    static func end(of stream: any BidiStream) async -> StreamsError? {
        do {
            for _ in 0..<1_000 where try await stream.receive() == nil { return nil }
            return .internalError("the stream did not end")
        } catch {
            return error
        }
    }

    @Test func aPortInUseIsAnEnvironmentErrorAndLeavesNothingRunning() async throws {
        let first = try await Daemon.start(Self.configuration(.memory, dataDirectory: "-"), logger: Logger(sink: { _ in }),
                                           loopCount: 1)
        var configuration = Self.configuration(.memory, dataDirectory: "-")
        configuration.listen.port = first.localAddress.port
        await #expect {
            _ = try await Daemon.start(configuration, logger: Logger(sink: { _ in }), loopCount: 1)
        } throws: { error in
            (error as? DaemonStartError).map { $0.exitStatus == 1 && $0.message.hasPrefix("cannot listen on 127.0.0.1:") } ?? false
        }
        await first.shutdown()
    }

    @Test func unreadableTokenKeysStopTheStartWithStatus2() async throws {
        var configuration = Self.configuration(.memory, dataDirectory: "-")
        configuration.jwtHS256SecretFile = "/nonexistent/secret"
        await #expect {
            _ = try await Daemon.start(configuration, logger: Logger(sink: { _ in }), loopCount: 1)
        } throws: { error in
            (error as? DaemonStartError).map { $0.exitStatus == 2 && $0.message.contains("/nonexistent/secret") } ?? false
        }
    }
}
