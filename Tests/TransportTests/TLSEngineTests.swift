import CoordTestKit
import Testing
import Transport

/// A server engine and a client engine wired back to back in memory, with everything each side
/// decrypted and the first error each side raised.
final class TLSPair {
    let client: TLSEngine
    let server: TLSEngine
    var clientReceived: [UInt8] = []
    var serverReceived: [UInt8] = []
    var clientError: TLSError?
    var serverError: TLSError?
    var clientHandshakeCompletions = 0
    var serverHandshakeCompletions = 0
    var clientSawPeerClose = false
    var serverSawPeerClose = false

    init(server serverContext: TLSContext, client clientContext: TLSContext, serverName: String = "localhost") throws {
        server = try TLSEngine.server(context: serverContext)
        client = try TLSEngine.client(context: clientContext, serverName: serverName)
        try client.startHandshake()
    }

    /// Standard contexts from the shared fixtures: the server presents its certificate, the client
    /// trusts the test CA.
    convenience init(serverName: String = "localhost") throws {
        try self.init(server: try TLSContext(.testServer()), client: try TLSContext(.testClient()), serverName: serverName)
    }

    /// Moves ciphertext both ways until neither side has anything to send (at most `maximumRounds`
    /// exchanges); returns the number of rounds that moved bytes.
    @discardableResult
    func pump(maximumRounds: Int = 64) -> Int {
        for round in 0..<maximumRounds {
            var moved = false
            if let bytes = client.takeCiphertext() {
                moved = true
                server.feedCiphertext(bytes)
            }
            readServer()
            if let bytes = server.takeCiphertext() {
                moved = true
                client.feedCiphertext(bytes)
            }
            readClient()
            if !moved { return round }
        }
        return maximumRounds
    }

    var bothEstablished: Bool {
        client.state == .established && server.state == .established
    }

    private func readServer() {
        guard serverError == nil else { return }
        do {
            let result = try server.readPlaintext(into: &serverReceived)
            if result.handshakeCompleted { serverHandshakeCompletions += 1 }
            if result.peerClosed { serverSawPeerClose = true }
        } catch {
            serverError = error
        }
    }

    private func readClient() {
        guard clientError == nil else { return }
        do {
            let result = try client.readPlaintext(into: &clientReceived)
            if result.handshakeCompleted { clientHandshakeCompletions += 1 }
            if result.peerClosed { clientSawPeerClose = true }
        } catch {
            clientError = error
        }
    }
}

extension TLSConfiguration {
    static func testServer(clientCA: String? = nil) -> TLSConfiguration {
        .server(
            certificateChainFile: Certificates.shared.serverCertificate, privateKeyFile: Certificates.shared.serverKey,
            clientCertificateAuthorityFile: clientCA)
    }

    static func testClient(certificate: String? = nil, key: String? = nil) -> TLSConfiguration {
        .client(
            trust: .certificateAuthorityFile(Certificates.shared.caCertificate), certificateChainFile: certificate,
            privateKeyFile: key)
    }
}

/// Deterministic payload bytes that differ at every offset of a short period.
func payload(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}

@Suite struct TLSEngineTests {
    @Test(arguments: [1, 16 * 1024, 1 << 20])
    func handshakeCompletesAndDataFlowsBothWays(size: Int) throws {
        let pair = try TLSPair()
        pair.pump()
        #expect(pair.bothEstablished)
        #expect(pair.clientHandshakeCompletions == 1)
        #expect(pair.serverHandshakeCompletions == 1)

        let up = payload(size, seed: 1)
        try pair.client.writePlaintext(up)
        pair.pump()
        #expect(pair.serverReceived == up)

        let down = payload(size, seed: 2)
        try pair.server.writePlaintext(down)
        pair.pump()
        #expect(pair.clientReceived == down)
        #expect(pair.clientError == nil && pair.serverError == nil)
    }

    @Test func tls13IsNegotiatedWhenBothSidesSupportIt() throws {
        let pair = try TLSPair()
        #expect(pair.client.negotiatedProtocol == nil)
        pair.pump()
        #expect(pair.client.negotiatedProtocol == "TLSv1.3")
        #expect(pair.server.negotiatedProtocol == "TLSv1.3")
    }

    @Test func plaintextWrittenDuringTheHandshakeArrivesAfterIt() throws {
        let pair = try TLSPair()
        let request = Array("GET /streamz HTTP/1.1\r\n\r\n".utf8)
        try pair.client.writePlaintext(request)
        #expect(pair.client.state == .handshaking)
        pair.pump()
        #expect(pair.serverReceived == request)
    }

    @Test func clientWritingFirstStartsItsOwnHandshake() throws {
        let server = try TLSEngine.server(context: try TLSContext(.testServer()))
        let client = try TLSEngine.client(context: try TLSContext(.testClient()), serverName: "localhost")
        #expect(client.takeCiphertext() == nil)
        try client.writePlaintext([1, 2, 3])
        let hello = try #require(client.takeCiphertext())
        server.feedCiphertext(hello)
        try server.readPlaintext { _ in }
        #expect(server.pendingCiphertextBytes > 0)  // the server answered the ClientHello
    }

    @Test func manySmallRecordsArriveInOrder() throws {
        let pair = try TLSPair()
        pair.pump()
        var expected: [UInt8] = []
        for index in 0..<2_000 {
            let message = Array("message \(index);".utf8)
            expected += message
            try pair.client.writePlaintext(message)
        }
        pair.pump()
        #expect(pair.serverReceived == expected)
    }

    @Test func ciphertextFedOneByteAtATimeStillDecrypts() throws {
        let server = try TLSEngine.server(context: try TLSContext(.testServer()))
        let client = try TLSEngine.client(context: try TLSContext(.testClient()), serverName: "localhost")
        try client.startHandshake()
        try client.writePlaintext(payload(3000))
        var received: [UInt8] = []
        // Each round trickles every pending byte separately; the handshake needs a few rounds.
        for _ in 0..<8 where received.count < 3000 {
            for byte in client.takeCiphertext() ?? [] {
                server.feedCiphertext([byte])
                try server.readPlaintext(into: &received)
            }
            for byte in server.takeCiphertext() ?? [] {
                client.feedCiphertext([byte])
                var ignored: [UInt8] = []
                try client.readPlaintext(into: &ignored)
            }
        }
        #expect(received == payload(3000))
    }

    @Test func shutdownSendsCloseNotifyThePeerReportsOnce() throws {
        let pair = try TLSPair()
        pair.pump()
        try pair.client.writePlaintext([42])
        pair.client.shutdown()
        #expect(pair.client.state == .closed)
        pair.pump()
        #expect(pair.serverReceived == [42])
        #expect(pair.serverSawPeerClose)
        #expect(pair.server.state == .peerClosed)
        #expect(pair.serverError == nil)
        // Nothing more is delivered after close_notify.
        let again = try pair.server.readPlaintext { _ in }
        #expect(again.plaintextBytes == 0 && !again.peerClosed && !again.handshakeCompleted)
    }

    @Test func writingAfterShutdownIsAClosedError() throws {
        let pair = try TLSPair()
        pair.pump()
        pair.server.shutdown()
        #expect(throws: TLSError(.closed, "cannot write: the TLS connection was shut down")) {
            try pair.server.writePlaintext([1])
        }
    }

    @Test func queuedPlaintextIsBoundedBeforeTheHandshake() throws {
        let client = try TLSEngine.client(context: try TLSContext(.testClient()), serverName: "localhost")
        try client.writePlaintext(payload(TLSLimits.maximumQueuedPlaintextBytes))
        let error = try #require(throws: TLSError.self) { try client.writePlaintext([1]) }
        #expect(error.kind == .limitExceeded)
        #expect(client.state == .failed(error))
    }

    /// Bytes that are not a TLS handshake, named for the test report.
    struct Garbage: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var testDescription: String { name }
    }

    static let garbage: [Garbage] = [
        Garbage(name: "plain HTTP", bytes: Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)),
        Garbage(name: "zero bytes", bytes: [UInt8](repeating: 0, count: 64)),
        Garbage(
            name: "handshake record claiming 65535 bytes",
            bytes: [0x16, 0x03, 0x01, 0xFF, 0xFF] + [UInt8](repeating: 0xAB, count: 64)),
        Garbage(name: "alert record with a nonsense body", bytes: [0x15, 0x03, 0x03, 0x00, 0x02, 0xFF, 0xFF]),
        Garbage(
            name: "handshake record holding a bogus message",
            bytes: [0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, 1, 2, 3, 4]),
        Garbage(name: "pseudo-random bytes", bytes: payload(512, seed: 99).map { $0 ^ 0x5A }),
    ]

    @Test(arguments: garbage)
    func garbageFedToAServerIsACleanHandshakeError(garbage: Garbage) throws {
        let server = try TLSEngine.server(context: try TLSContext(.testServer()))
        server.feedCiphertext(garbage.bytes)
        let error = try #require(throws: TLSError.self) { try server.readPlaintext { _ in } }
        #expect(error.kind == .handshake)
        #expect(error.message.hasPrefix("TLS handshake failed: error:"), "\(error.message)")
        #expect(server.state == .failed(error))
        // The failure is sticky and repeatable, never a hang or a different answer.
        #expect(throws: error) { try server.readPlaintext { _ in } }
        #expect(throws: error) { try server.writePlaintext([1]) }
    }

    @Test func garbageFedToAClientIsACleanHandshakeError() throws {
        let pair = try TLSPair()
        _ = pair.client.takeCiphertext()
        pair.client.feedCiphertext(Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8))
        let error = try #require(throws: TLSError.self) { try pair.client.readPlaintext { _ in } }
        #expect(error.kind == .handshake)
        #expect(error.message.contains("wrong version number"), "\(error.message)")
    }

    @Test func corruptedRecordAfterTheHandshakeIsAProtocolError() throws {
        let pair = try TLSPair()
        pair.pump()
        try pair.client.writePlaintext(payload(100))
        var record = try #require(pair.client.takeCiphertext())
        record[record.count - 1] ^= 0x01  // flip a bit in the authentication tag
        pair.server.feedCiphertext(record)
        let error = try #require(throws: TLSError.self) { try pair.server.readPlaintext { _ in } }
        #expect(error.kind == .protocolViolation)
        #expect(error.message.contains("bad record mac") || error.message.contains("decryption failed"), "\(error.message)")
        #expect((pair.server.takeCiphertext() ?? []).count > 0, "the server tells the client with an alert")
    }
}
