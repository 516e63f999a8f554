import CoordTestKit
import Foundation
import StreamCore
import Testing
import Transport

/// The mux over TLS: real handshakes with the test certificates, mutual TLS, and junk where a
/// handshake should be.
@Suite struct MuxTLSTests {
    @Test func streamsWorkOverTLSWithTheServerVerifiedAgainstTheTestCA() async throws {
        let server = try await MuxTest.server(tls: TestNetwork.serverTLS)
        let provider = try MuxTest.provider(server, tls: TestNetwork.clientTLS)
        let stream = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("secure"))
        #expect(try await MuxTest.receive(stream) == MuxTest.message("secure"))
        let large = MuxTest.message(String(repeating: "L", count: 3 << 20))
        try await stream.send(large)
        #expect(try await MuxTest.receive(stream, seconds: 20) == large)
        stream.close(error: nil)
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    @Test func aClientThatDoesNotTrustTheServerFailsItsCall() async throws {
        let server = try await MuxTest.server(tls: TestNetwork.serverTLS)
        let stranger = try TLSContext(.client(trust: .certificateAuthorityFile(Certificates.shared.otherCACertificate)))
        let provider = try MuxTest.provider(server, tls: stranger)
        await #expect(throws: StreamsError.self) {
            _ = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("x"))
        }
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    @Test func mutualTLSRejectsAClientWithoutACertificateAndAcceptsOneWithIt() async throws {
        let certificates = Certificates.shared
        let serverTLS = try TLSContext(
            .server(
                certificateChainFile: certificates.serverCertificate, privateKeyFile: certificates.serverKey,
                clientCertificateAuthorityFile: certificates.caCertificate))
        let server = try await MuxTest.server(tls: serverTLS)
        let anonymous = try MuxTest.provider(server, tls: TestNetwork.clientTLS)
        var refusal: (any Error)?
        do {
            let stream = try await anonymous.callStream(store: TestStores.echo, request: MuxTest.message("x"))
            // With TLS 1.3 the client may learn of the refusal only when it reads.
            _ = try await MuxTest.receive(stream)
        } catch {
            refusal = error
        }
        #expect(refusal != nil, "a client without a certificate got through")
        let identified = try TLSContext(
            .client(
                trust: .certificateAuthorityFile(certificates.caCertificate),
                certificateChainFile: certificates.clientCertificate, privateKeyFile: certificates.clientKey))
        let provider = try MuxTest.provider(server, tls: identified)
        let stream = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("me"))
        #expect(try await MuxTest.receive(stream) == MuxTest.message("me"))
        stream.close(error: nil)
        await anonymous.close()
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    @Test func garbageInsteadOfAClientHelloClosesOnlyThatConnection() async throws {
        let server = try await MuxTest.server(tls: TestNetwork.serverTLS)
        let provider = try MuxTest.provider(server, tls: TestNetwork.clientTLS)
        let stream = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("a"))
        #expect(try await MuxTest.receive(stream) == MuxTest.message("a"))
        let socket = try await RawSocket.connect(port: server.port)
        try await socket.send(Array("GET /streamz HTTP/1.1\r\nHost: x\r\n\r\n".utf8) + [UInt8](repeating: 0x42, count: 4_096))
        // The server answers with a TLS alert (or nothing) and closes.
        let answer = try await socket.receiveUntilClosed(timeoutMs: 5_000)
        #expect(answer.count < 64)
        try await stream.send(MuxTest.message("b"))
        #expect(try await MuxTest.receive(stream) == MuxTest.message("b"), "the other connection is unaffected")
        stream.close(error: nil)
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    @Test func opensslSClientCompletesAHandshake() async throws {
        let server = try await MuxTest.server(tls: TestNetwork.serverTLS)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "s_client", "-connect", "127.0.0.1:\(server.port)", "-CAfile", Certificates.shared.caCertificate,
            "-verify_return_error", "-brief",
        ]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // A plain request through the tunnel: the server answers 404 and closes, which ends s_client.
        input.fileHandleForWriting.write(Data("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        let finished = await eventually(seconds: 10) { !process.isRunning }
        if !finished { process.terminate() }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(finished, "s_client did not finish within 10 s")
        #expect(text.contains("Verification: OK") || text.contains("Verify return code: 0"), "\(text)")
        #expect(text.contains("HTTP/1.1 404 Not Found"), "\(text)")
        await server.shutdown(graceMs: 1_000)
    }
}
