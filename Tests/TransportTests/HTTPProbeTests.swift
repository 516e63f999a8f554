import CoordTestKit
import StreamCore
import Testing

@testable import Transport

/// One plain GET to a listener, as `coordctl health` sends it: in the clear and over TLS, and bounded in
/// time and size against a peer that does not answer like an HTTP server.
@Suite(.serialized) struct HTTPProbeTests {
    func url(_ scheme: String, _ port: Int) throws -> WebSocketURL {
        try WebSocketURL(parsing: "\(scheme)://127.0.0.1:\(port)")
    }

    @Test(arguments: [false, true])
    func aServerAnswersWithItsStatusAndBody(_ secure: Bool) async throws {
        let server = try await MuxTest.server(tls: secure ? TestNetwork.serverTLS : nil)
        let base = try url(secure ? "wss" : "ws", server.port)
        let loop = TestNetwork.group.next()
        let health = try await HTTPProbe.get(url: base, path: "/healthz", tls: secure ? TestNetwork.clientTLS : nil, loop: loop)
        #expect(health == HTTPProbe.Response(status: 200, body: "ok\n"))
        let missing = try await HTTPProbe.get(url: base, path: "/nothing", tls: secure ? TestNetwork.clientTLS : nil, loop: loop)
        #expect(missing.status == 404)
        await server.shutdown(graceMs: 1_000)
    }

    @Test func aServerCertificateFromAnotherCAIsRefused() async throws {
        let server = try await MuxTest.server(tls: TestNetwork.serverTLS)
        let stranger = try TLSContext(.client(trust: .certificateAuthorityFile(Certificates.shared.otherCACertificate)))
        let error = await #expect(throws: StreamsError.self) {
            _ = try await HTTPProbe.get(url: try url("wss", server.port), path: "/healthz", tls: stranger, loop: TestNetwork.group.next())
        }
        #expect(error?.message.contains("TLS") == true, "\(String(describing: error))")
        await server.shutdown(graceMs: 1_000)
    }

    @Test func aPeerThatNeverFinishesTimesOutAndOneThatSendsTooMuchIsCutOff() async throws {
        // An echo server: it sends the request back (not an HTTP response) and never closes.
        let listener = try await TCPListener.bind(host: "127.0.0.1", port: 0, group: TestNetwork.group) { connection in
            RecordingHandler(connection, probe: ConnectionProbe(), echoes: true)
        }
        var limits = HTTPProbe.Limits()
        limits.timeoutMs = 200
        let slow = await #expect(throws: StreamsError.self) {
            _ = try await HTTPProbe.get(url: try url("ws", listener.port), path: "/healthz", tls: nil, loop: TestNetwork.group.next(), limits: limits)
        }
        #expect(slow?.message == "no complete answer within 200 ms")
        limits.timeoutMs = 5_000
        limits.maxResponseBytes = 16
        let large = await #expect(throws: StreamsError.self) {
            _ = try await HTTPProbe.get(url: try url("ws", listener.port), path: "/healthz", tls: nil, loop: TestNetwork.group.next(), limits: limits)
        }
        #expect(large?.message == "the response is larger than 16 bytes")
        await listener.stop()
    }

    @Test func nothingListeningIsAnErrorNamingTheAddress() async throws {
        let listener = try await TCPListener.bind(host: "127.0.0.1", port: 0, group: TestNetwork.group) { connection in
            RecordingHandler(connection, probe: ConnectionProbe())
        }
        let port = listener.port
        await listener.stop()
        let error = await #expect(throws: StreamsError.self) {
            _ = try await HTTPProbe.get(url: try url("ws", port), path: "/healthz", tls: nil, loop: TestNetwork.group.next())
        }
        #expect(error?.message.hasPrefix("cannot connect to 127.0.0.1:\(port)") == true, "\(String(describing: error))")
    }
}
