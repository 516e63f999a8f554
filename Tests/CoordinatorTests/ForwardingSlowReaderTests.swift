import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

extension LargeMessageSuites {
    /// A client of the front that does not read: the copy waits for it instead of queueing the owner's
    /// messages for its socket.
    struct ForwardingSlowReaderTests {
        static let entries = 400
        static let entryBytes = 32 << 10

        @Test func aClientThatDoesNotReadHoldsUpItsCopyNotTheFrontsMemory() async throws {
            let cluster = try await ForwardingCluster.start()
            let direct = try ForwardingCluster.provider(cluster.owner)
            let atOwner = CoordClient(provider: direct, store: ForwardingCluster.store)
            try await atOwner.produce(space: "s", segment: "g", records: makeRecords(Self.entries, size: Self.entryBytes))

            // A client with a 4 KiB receive buffer asks the front for the whole segment, about 17 MiB of
            // frames, and reads nothing yet.
            let expiry = SystemWallClock().nowMs() / 1_000 + 3_600
            let token = TestJWT.hs256(claims: JWTFixture.claims(exp: expiry), secret: JWTFixture.secret)
            let raw = try await RawWebSocket.upgraded(
                port: cluster.front.localAddress.port, headers: [("Authorization", "Bearer \(token)")], receiveBufferBytes: 4_096)
            let channel = WireUUID.random()
            try await raw.send(MuxFrame(controlType: .data, storeID: ForwardingCluster.store, channelID: channel,
                                        payload: ConsumeSegment(space: "s", segment: "g").enveloped()))

            // The owner sends everything (the link reads it all) and ends its stream…
            #expect(await eventually(seconds: 30) { (try? await cluster.ownerStreams()) == 0 }, "the owner sent the segment")
            // …while the front holds for the client no more than its write queue's watermark and a frame.
            let held = try #require(Self.sample("coordd_outbound_bytes_held", of: cluster.front))
            #expect(held < Double(3 << 20), "held \(held) bytes for a client that reads nothing")

            // Once the client reads, every entry arrives in order, then the owner's clean end.
            var sequences: [UInt64] = []
            for _ in 0..<(Self.entries + 10) {
                let frame = try #require(try await raw.nextMuxFrame(timeoutMs: 10_000))
                #expect(frame.channelID == channel)
                let payload = try #require(frame.payload)
                if let control = MuxControlMessage.decode(payload) {
                    #expect(control.streamError == nil)
                    break
                }
                sequences.append(try Entry(decoding: payload).sequence)
            }
            #expect(sequences == Array(1...UInt64(Self.entries)))
            await direct.close()
            await cluster.stop()
        }

        /// The sample of `series` on `daemon`'s `/metrics`.
        static func sample(_ series: String, of daemon: Daemon) -> Double? {
            let metrics = daemon.endpoints.respond(to: HTTPRequestHead(method: "GET", target: "/metrics"))
            return DaemonMetricsTests.sample(series, in: String(decoding: metrics?.body ?? [], as: UTF8.self))
        }
    }
}
