import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

extension LargeMessageSuites {
    /// `--max-outbound-memory` reaches the daemon's loops, and a connection closed over it is logged and
    /// counted on `/metrics` (what the closed client is told is checked in `RuntimeOutboundBudgetTests`).
    struct DaemonOutboundBudgetTests {
        @Test func aClientThatNeverReadsIsClosedLoggedAndCountedWhileAReaderCarriesOn() async throws {
            var configuration = DaemonLifecycleTests.configuration(.memory, dataDirectory: "-")
            configuration.maxOutboundMemoryBytes = DaemonConfigurationLimits.minOutboundMemoryBytes
            let lines = LineCollector()
            let daemon = try await Daemon.start(configuration, logger: Logger(level: .info, sink: lines.sink), loopCount: 2)
            let port = daemon.localAddress.port
            let provider = try WebSocketProvider(url: "ws://127.0.0.1:\(port)", group: TestNetwork.group)
            let client = CoordClient(provider: provider, store: .defaultStore)
            try await client.produce(space: "s", segment: "g", records: makeRecords(1))

            // Clients that flood pings and never read the pongs (8-10 MiB held each): two or three pass 16 MiB.
            var floods: [RawWebSocket] = []
            @Sendable func closes() -> Int {
                let metrics = daemon.endpoints.respond(to: HTTPRequestHead(method: "GET", target: "/metrics"))
                let text = String(decoding: metrics?.body ?? [], as: UTF8.self)
                let line = text.split(separator: "\n").first { $0.hasPrefix("coordd_slow_clients_closed_total{reason=\"outbound_budget\"} ") }
                return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
            }
            #expect(closes() == 0)
            for _ in 0..<6 where closes() == 0 {
                let flood = try await RawWebSocket.upgraded(port: port, receiveBufferBytes: 4_096)
                try await flood.send(.ping, times: 60_000)
                floods.append(flood)
                _ = await eventually(seconds: 5) { closes() > 0 }
            }
            #expect((1...2).contains(closes()))
            #expect(floods.count >= 2, "one client alone stays under the budget")
            #expect(lines.all.contains {
                $0.contains("level=warn msg=\"slow client closed\"") && $0.contains("reason=outbound_budget")
                    && $0.contains("limit_bytes=16777216")
            }, "\(lines.all.suffix(3))")
            #expect(try await client.peek(space: "s", segment: "g").sequence == 1, "the reading client carries on")
            await provider.close()
            await daemon.shutdown()
        }
    }
}
