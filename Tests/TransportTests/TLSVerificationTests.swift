import COpenSSL
import CoordTestKit
import Testing
import Transport

/// A bare OpenSSL client over memory BIOs, for peers ``TLSEngine`` deliberately cannot be: one
/// limited to an old protocol version. It does not verify the server.
final class RawTLSClient {
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private let input: OpaquePointer
    private let output: OpaquePointer

    /// A client that offers exactly `version` (OpenSSL's `TLS1_1_VERSION`, `TLS1_2_VERSION`, …).
    init(version: Int32) throws {
        context = try #require(SSL_CTX_new(TLS_client_method()))
        #expect(coordd_SSL_CTX_set_min_proto_version(context, version) == 1)
        #expect(coordd_SSL_CTX_set_max_proto_version(context, version) == 1)
        // Security level 0 lets OpenSSL 3 speak TLS 1.1 at all, so the server is what refuses it.
        #expect(SSL_CTX_set_cipher_list(context, "DEFAULT:@SECLEVEL=0") == 1)
        ssl = try #require(SSL_new(context))
        input = try #require(BIO_new(BIO_s_mem()))
        output = try #require(BIO_new(BIO_s_mem()))
        SSL_set_bio(ssl, input, output)
        SSL_set_connect_state(ssl)
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    /// Runs the handshake as far as it goes; true once it has finished.
    func advance() -> Bool {
        ERR_clear_error()
        defer { ERR_clear_error() }
        return SSL_do_handshake(ssl) == 1
    }

    func feed(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { BIO_write(input, $0.baseAddress, Int32($0.count)) }
    }

    func take() -> [UInt8]? {
        let pending = Int(BIO_ctrl_pending(output))
        guard pending > 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: pending)
        let read = bytes.withUnsafeMutableBytes { BIO_read(output, $0.baseAddress, Int32(pending)) }
        return Array(bytes.prefix(Int(max(read, 0))))
    }

    var version: String { String(cString: SSL_get_version(ssl)) }
}

@Suite struct TLSVerificationTests {
    @Test func tls11OnlyClientIsRefused() throws {
        let server = try TLSEngine.server(context: try TLSContext(.testServer()))
        let client = try RawTLSClient(version: TLS1_1_VERSION)
        #expect(!client.advance())
        server.feedCiphertext(try #require(client.take(), "the TLS 1.1 client sends a ClientHello"))
        let error = try #require(throws: TLSError.self) { try server.readPlaintext { _ in } }
        #expect(error.kind == .handshake)
        #expect(error.message.contains("unsupported protocol"), "\(error.message)")
        // The server's protocol_version alert ends the client's attempt too.
        client.feed(try #require(server.takeCiphertext()))
        #expect(!client.advance())
    }

    @Test func tls12OnlyClientIsAccepted() throws {
        let server = try TLSEngine.server(context: try TLSContext(.testServer()))
        let client = try RawTLSClient(version: TLS1_2_VERSION)
        var finished = false
        for _ in 0..<8 where !finished {
            finished = client.advance()
            if let bytes = client.take() { server.feedCiphertext(bytes) }
            try server.readPlaintext { _ in }
            if let bytes = server.takeCiphertext() { client.feed(bytes) }
        }
        #expect(finished)
        #expect(server.state == .established)
        #expect(server.negotiatedProtocol == "TLSv1.2")
        #expect(client.version == "TLSv1.2")
    }

    @Test func minimumTLS13ServerRefusesTLS12() throws {
        var configuration = TLSConfiguration.testServer()
        configuration.minimumVersion = .tls13
        let server = try TLSEngine.server(context: try TLSContext(configuration))
        let client = try RawTLSClient(version: TLS1_2_VERSION)
        _ = client.advance()
        server.feedCiphertext(try #require(client.take()))
        let error = try #require(throws: TLSError.self) { try server.readPlaintext { _ in } }
        #expect(error.message.contains("unsupported protocol"), "\(error.message)")
    }

    @Test func clientTrustingAnotherCAFailsVerification() throws {
        let client = try TLSContext(.client(trust: .certificateAuthorityFile(Certificates.shared.otherCACertificate)))
        let pair = try TLSPair(server: try TLSContext(.testServer()), client: client)
        pair.pump()
        let error = try #require(pair.clientError)
        #expect(error.kind == .certificateVerification)
        #expect(error.message.contains("unable to get local issuer certificate"), "\(error.message)")
        let serverError = try #require(pair.serverError, "the client's alert reaches the server")
        #expect(serverError.message.contains("unknown ca"), "\(serverError.message)")
    }

    @Test(arguments: ["example.com", "127.0.0.2", "::1"])
    func serverNameNotInTheCertificateFailsVerification(serverName: String) throws {
        let pair = try TLSPair(serverName: serverName)
        pair.pump()
        let error = try #require(pair.clientError)
        #expect(error.kind == .certificateVerification)
        #expect(error.message.contains("mismatch"), "\(error.message)")
        #expect(!pair.server.isHandshakeComplete)
    }

    @Test(arguments: ["localhost", "LOCALHOST", "127.0.0.1"])
    func serverNameInTheCertificateVerifies(serverName: String) throws {
        let pair = try TLSPair(serverName: serverName)
        pair.pump()
        #expect(pair.bothEstablished)
        #expect(pair.clientError == nil)
    }

    @Test func mutualTLSServerRejectsClientWithoutCertificate() throws {
        let server = try TLSContext(.testServer(clientCA: Certificates.shared.caCertificate))
        let pair = try TLSPair(server: server, client: try TLSContext(.testClient()))
        try pair.client.writePlaintext(Array("hello".utf8))
        pair.pump()
        let error = try #require(pair.serverError)
        #expect(error.kind == .handshake)
        #expect(error.message.contains("peer did not return a certificate"), "\(error.message)")
        #expect(pair.serverReceived.isEmpty)
        // In TLS 1.3 the client finishes first and learns of the refusal from the server's alert.
        let clientError = try #require(pair.clientError)
        #expect(clientError.message.contains("certificate required"), "\(clientError.message)")
    }

    @Test func mutualTLSServerAcceptsClientWithValidCertificate() throws {
        let certificates = Certificates.shared
        let server = try TLSContext(.testServer(clientCA: certificates.caCertificate))
        let client = try TLSContext(.testClient(certificate: certificates.clientCertificate, key: certificates.clientKey))
        let pair = try TLSPair(server: server, client: client)
        try pair.client.writePlaintext(Array("hello".utf8))
        pair.pump()
        #expect(pair.bothEstablished)
        #expect(pair.serverReceived == Array("hello".utf8))
        #expect(pair.serverError == nil && pair.clientError == nil)
    }

    @Test func mutualTLSServerRejectsCertificateFromAnotherCA() throws {
        let certificates = Certificates.shared
        let server = try TLSContext(.testServer(clientCA: certificates.caCertificate))
        let client = try TLSContext(
            .testClient(certificate: certificates.otherClientCertificate, key: certificates.otherClientKey))
        let pair = try TLSPair(server: server, client: client)
        pair.pump()
        let error = try #require(pair.serverError)
        #expect(error.kind == .certificateVerification)
        #expect(error.message.contains("unable to get local issuer certificate"), "\(error.message)")
        #expect(pair.clientError != nil)
    }
}
