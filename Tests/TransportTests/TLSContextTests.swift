import CoordTestKit
import Foundation
import Testing
import Transport

@Suite struct TLSContextTests {
    private func configurationError(_ configuration: TLSConfiguration) throws -> TLSError {
        let error = try #require(throws: TLSError.self) { _ = try TLSContext(configuration) }
        #expect(error.kind == .configuration)
        return error
    }

    @Test func missingCertificateFileIsNamedWithTheSystemReason() throws {
        let error = try configurationError(
            .server(certificateChainFile: "/nonexistent/server.pem", privateKeyFile: Certificates.shared.serverKey))
        #expect(error.message.hasPrefix("cannot load the certificate chain from /nonexistent/server.pem: error:"))
        #expect(error.message.contains("No such file or directory"), "\(error.message)")
    }

    @Test func fileWithoutACertificateIsNamedWithOpenSSLsReason() throws {
        let certificates = Certificates.shared
        let error = try configurationError(
            .server(certificateChainFile: certificates.serverKey, privateKeyFile: certificates.serverKey))
        #expect(error.message.hasPrefix("cannot load the certificate chain from \(certificates.serverKey): "))
        #expect(error.message.contains("no start line"), "\(error.message)")
    }

    @Test func fileWithoutAPrivateKeyIsNamed() throws {
        let certificates = Certificates.shared
        let error = try configurationError(
            .server(certificateChainFile: certificates.serverCertificate, privateKeyFile: certificates.serverCertificate))
        #expect(error.message.hasPrefix("cannot load the private key from \(certificates.serverCertificate): error:"))
    }

    @Test func keyThatDoesNotMatchTheCertificateIsReported() throws {
        let certificates = Certificates.shared
        let error = try configurationError(
            .server(certificateChainFile: certificates.serverCertificate, privateKeyFile: certificates.clientKey))
        #expect(
            error.message.hasPrefix(
                "the private key in \(certificates.clientKey) does not match the certificate in \(certificates.serverCertificate): "))
        #expect(error.message.contains("key values mismatch"), "\(error.message)")
    }

    @Test func missingClientCAFileIsNamed() throws {
        let error = try configurationError(.testServer(clientCA: "/nonexistent/ca.pem"))
        #expect(error.message.hasPrefix("cannot load CA certificates from /nonexistent/ca.pem: "), "\(error.message)")
    }

    @Test func missingServerCAFileIsNamed() throws {
        let error = try configurationError(.client(trust: .certificateAuthorityFile("/nonexistent/ca.pem")))
        #expect(error.message.hasPrefix("cannot load CA certificates from /nonexistent/ca.pem: "), "\(error.message)")
    }

    @Test func serverWithoutCertificateIsRefused() throws {
        var configuration = TLSConfiguration.testServer()
        configuration.certificateChainFile = nil
        configuration.privateKeyFile = nil
        let error = try configurationError(configuration)
        #expect(error.message == "a TLS server needs a certificate chain file and a private key file")
    }

    @Test func clientCertificateWithoutKeyIsRefused() throws {
        let error = try configurationError(.testClient(certificate: Certificates.shared.clientCertificate))
        #expect(error.message == "a certificate chain file was given without its private key file")
    }

    @Test func clientUsingTheSystemTrustStoreRejectsTheTestCA() throws {
        let pair = try TLSPair(server: try TLSContext(.testServer()), client: try TLSContext(.client()))
        pair.pump()
        let error = try #require(pair.clientError)
        #expect(error.kind == .certificateVerification)
    }

    @Test func certificateChainWithIntermediateLoads() throws {
        // The chain file may carry intermediates after the leaf; a CA certificate appended to the
        // leaf stands in for one.
        let certificates = Certificates.shared
        let chain = certificates.path("chain-\(UUID().uuidString).pem")
        defer { try? FileManager.default.removeItem(atPath: chain) }
        let leaf = try String(contentsOfFile: certificates.serverCertificate, encoding: .utf8)
        let ca = try String(contentsOfFile: certificates.caCertificate, encoding: .utf8)
        try (leaf + ca).write(toFile: chain, atomically: true, encoding: .utf8)
        let server = try TLSContext(.server(certificateChainFile: chain, privateKeyFile: certificates.serverKey))
        let pair = try TLSPair(server: server, client: try TLSContext(.testClient()))
        pair.pump()
        #expect(pair.bothEstablished)
    }
}
