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

    /// A client that offers exactly `version` (OpenSSL's `TLS1_1_VERSION`, `TLS1_2_VERSION`, …),
    /// optionally presenting a certificate and offering a session to resume.
    init(version: Int32, certificate: String? = nil, key: String? = nil, resuming session: OpaquePointer? = nil) throws {
        context = try #require(SSL_CTX_new(TLS_client_method()))
        #expect(coordd_SSL_CTX_set_min_proto_version(context, version) == 1)
        #expect(coordd_SSL_CTX_set_max_proto_version(context, version) == 1)
        // Security level 0 lets OpenSSL 3 speak TLS 1.1 at all, so the server is what refuses it.
        #expect(SSL_CTX_set_cipher_list(context, "DEFAULT:@SECLEVEL=0") == 1)
        if let certificate, let key {
            #expect(SSL_CTX_use_certificate_chain_file(context, certificate) == 1)
            #expect(coordd_SSL_CTX_use_PrivateKey_PEM_file(context, key) == 1)
        }
        ssl = try #require(SSL_new(context))
        input = try #require(BIO_new(BIO_s_mem()))
        output = try #require(BIO_new(BIO_s_mem()))
        SSL_set_bio(ssl, input, output)
        SSL_set_connect_state(ssl)
        if let session { #expect(SSL_set_session(ssl, session) == 1) }
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    /// Handshakes with `server`, then reads what follows (TLS 1.3 session tickets); true when the
    /// handshake finished. At most `rounds` exchanges.
    func connect(to server: TLSEngine, rounds: Int = 8) throws -> Bool {
        var finished = false
        for _ in 0..<rounds {
            finished = advance()
            if let bytes = take() { server.feedCiphertext(bytes) }
            try server.readPlaintext { _ in }
            if let bytes = server.takeCiphertext() { feed(bytes) }
        }
        if finished {
            var scratch = [UInt8](repeating: 0, count: 256)
            var read = 0
            ERR_clear_error()
            _ = scratch.withUnsafeMutableBytes { SSL_read_ex(ssl, $0.baseAddress, $0.count, &read) }
            ERR_clear_error()
        }
        return finished
    }

    /// The session to resume later (owned by the caller: `SSL_SESSION_free`).
    func session() -> OpaquePointer? {
        SSL_get1_session(ssl)
    }

    var resumedSession: Bool { SSL_session_reused(ssl) == 1 }

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
        #expect(try client.connect(to: server))
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

    @Test(arguments: [TLS1_2_VERSION, TLS1_3_VERSION])
    func mutualTLSServerResumesSessions(version: Int32) throws {
        let certificates = Certificates.shared
        let context = try TLSContext(.testServer(clientCA: certificates.caCertificate))
        let first = try RawTLSClient(version: version, certificate: certificates.clientCertificate, key: certificates.clientKey)
        #expect(try first.connect(to: try TLSEngine.server(context: context)))
        let session = try #require(first.session())
        defer { SSL_SESSION_free(session) }

        let second = try RawTLSClient(
            version: version, certificate: certificates.clientCertificate, key: certificates.clientKey, resuming: session)
        let server = try TLSEngine.server(context: context)
        #expect(try second.connect(to: server))
        #expect(second.resumedSession)
        #expect(server.state == .established)
    }
}
