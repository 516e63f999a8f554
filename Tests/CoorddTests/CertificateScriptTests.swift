import CoordTestKit
import Foundation
import StreamCore
import Testing

/// `deploy/certs.sh` makes certificates the daemon and coordctl accept for mutual TLS, and running it
/// again keeps what still fits.
@Suite(.serialized)
struct CertificateScriptTests {
    static let script = Certificates.certificateScript

    func contents(_ directory: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
        }
        return files
    }

    @Test(.timeLimit(.minutes(1)))
    func theScriptsCertificatesServeMutualTLSToCoordctlAndARerunKeepsThem() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-certs")
        defer { scratch.remove() }
        let certs = scratch.path + "/certs"
        let made = try await runProgram("/bin/bash", [Self.script, certs])
        #expect(made.status == 0, "\(made.err)")
        #expect(made.out.contains("made \(certs)/server.pem") && made.out.contains("made \(certs)/client.pem"))
        let first = try contents(certs)
        #expect(Set(first.keys).isSuperset(of: ["ca.pem", "ca.key", "server.pem", "server.key", "client.pem", "client.key"]))
        for key in ["ca.key", "server.key", "client.key"] {
            let mode = try FileManager.default.attributesOfItem(atPath: certs + "/" + key)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(key) is readable by others")
        }

        let again = try await runProgram("/bin/bash", [Self.script, certs])
        #expect(again.status == 0 && !again.out.contains("made"), "\(again.out)")
        #expect(try contents(certs) == first, "a second run changes nothing")

        let daemon = try DaemonProcess(
            arguments: ["--listen", "127.0.0.1:0", "--storage", "memory", "--tls-cert", certs + "/server.pem",
                        "--tls-key", certs + "/server.key", "--tls-client-ca", certs + "/ca.pem"],
            logPath: scratch.path + "/d.log")
        defer { daemon.stop() }
        let port = try #require(try await daemon.listeningAddress().split(separator: ":").last)
        let trust = ["--ca-file", certs + "/ca.pem"]
        let identity = ["--cert-file", certs + "/client.pem", "--key-file", certs + "/client.key"]

        for host in ["127.0.0.1", "localhost"] {
            let status = try await runCoordctl(["status", "--server", "wss://\(host):\(port)"] + trust + identity)
            #expect(status.status == 0, "over \(host) (the certificate's IP and DNS names): \(status.err)")
        }
        let health = try await runCoordctl(["health", "--server", "wss://127.0.0.1:\(port)"] + trust + identity)
        #expect(health.status == 0 && health.out == "ok coordd \(BuildInfo.version)\n", "\(health)")
        let anonymous = try await runCoordctl(["status", "--server", "wss://127.0.0.1:\(port)"] + trust)
        #expect(anonymous.status == 1, "without a client certificate the daemon refuses the connection")

        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(seconds: 15).status == 0)
    }

    @Test func namesGivenBecomeTheServersSubjectAltNamesAndOnlyTheServerCertificateIsRemade() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-certs")
        defer { scratch.remove() }
        let certs = scratch.path + "/certs"
        #expect(try await runProgram("/bin/bash", [Self.script, certs]).status == 0)
        let before = try contents(certs)
        let run = try await runProgram("/bin/bash", [Self.script, certs, "coordd.internal", "127.0.0.2", "--client", "alice"])
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("kept \(certs)/ca.pem") && run.out.contains("made \(certs)/server.pem")
            && run.out.contains("made \(certs)/alice.pem"), "\(run.out)")
        let after = try contents(certs)
        #expect(after["ca.pem"] == before["ca.pem"] && after["server.pem"] != before["server.pem"])
        let text = String(decoding: try OpenSSLTool.run(["x509", "-in", certs + "/server.pem", "-noout", "-ext", "subjectAltName"]), as: UTF8.self)
        #expect(text.contains("DNS:coordd.internal") && text.contains("IP Address:127.0.0.2"), "\(text)")
        #expect(try await runProgram("/bin/bash", [Self.script]).status == 2, "a missing directory is a usage error")
    }
}
