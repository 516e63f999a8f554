import CoordTestKit
import Foundation
import StreamCore
import Testing

/// coordctl against real daemons it cannot reach, or reaches the wrong way: exit status 3 and a hint,
/// apart from answers the daemon gave (status 1).
@Suite(.serialized)
struct CoordctlReachabilityTests {
    @Test func nothingListeningIsStatus3WithAHint() async throws {
        let refused = try await runCoordctl(["status", "--server", "ws://127.0.0.1:1"])
        #expect(refused.status == 3, "\(refused)")
        #expect(refused.err.hasPrefix("error: stream_closed: cannot connect to ws://127.0.0.1:1/streamz"))
        #expect(refused.err.contains("hint: nothing listens at ws://127.0.0.1:1"))
        let health = try await runCoordctl(["health", "--server", "ws://127.0.0.1:1"])
        #expect(health.status == 3 && health.err.contains("hint: nothing listens"), "\(health)")
    }

    @Test(.timeLimit(.minutes(1)))
    func theWrongSchemeOrAnUnknownCAIsStatus3WithTheFix() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordctl-tls")
        defer { scratch.remove() }
        let certs = scratch.path + "/certs"
        #expect(try await runProgram("/bin/bash", [Certificates.certificateScript, certs]).status == 0)
        let tls = try DaemonProcess(
            arguments: ["--listen", "127.0.0.1:0", "--storage", "memory", "--tls-cert", certs + "/server.pem",
                        "--tls-key", certs + "/server.key"],
            logPath: scratch.path + "/tls.log")
        defer { tls.stop() }
        let plain = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--storage", "memory"], logPath: scratch.path + "/plain.log")
        defer { plain.stop() }
        let tlsAddress = try await tls.listeningAddress()
        let plainAddress = try await plain.listeningAddress()

        let noTLS = try await runCoordctl(["status", "--server", "ws://\(tlsAddress)"])
        #expect(noTLS.status == 3 && noTLS.err.contains("hint: the daemon may be serving TLS on that port: use wss://"), "\(noTLS)")
        let unknownCA = try await runCoordctl(["status", "--server", "wss://\(tlsAddress)"])
        #expect(unknownCA.status == 3 && unknownCA.err.contains("--ca-file"), "\(unknownCA)")
        let trusted = try await runCoordctl(["status", "--server", "wss://\(tlsAddress)", "--ca-file", certs + "/ca.pem"])
        #expect(trusted.status == 0, "\(trusted)")
        let tlsToPlain = try await runCoordctl(["status", "--server", "wss://\(plainAddress)", "--ca-file", certs + "/ca.pem"])
        #expect(tlsToPlain.status == 3 && tlsToPlain.err.contains("use ws:// instead of wss://"), "\(tlsToPlain)")
    }

    @Test(.timeLimit(.minutes(1)))
    func aMintedTokenOpensItsStoreOnly() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordctl-token")
        defer { scratch.remove() }
        let secret = scratch.path + "/secret"
        try Data("a development secret of at least 32 bytes\n".utf8).write(to: URL(fileURLWithPath: secret))
        let daemon = try DaemonProcess(
            arguments: ["--listen", "127.0.0.1:0", "--storage", "memory", "--jwt-hs256-secret-file", secret,
],
            logPath: scratch.path + "/d.log")
        defer { daemon.stop() }
        let server = "ws://" + (try await daemon.listeningAddress())
        let minted = try await runCoordctl(["token", "mint", "--hs256-secret-file", secret, "--ttl", "1h", "--sub", "dev"])
        #expect(minted.status == 0 && minted.out.split(separator: ".").count == 3, "\(minted)")
        let token = minted.out.trimmingCharacters(in: .whitespacesAndNewlines)
        let claims = try #require(Base64.decode(String(token.split(separator: ".")[1]), alphabet: .url))
        let text = String(decoding: claims, as: UTF8.self)
        #expect(text.hasPrefix(#"{"sub":"dev","scopes":["streamkit::\#(WireUUID.defaultStore)"],"iat":"#), "\(text)")

        #expect(try await runCoordctl(["status", "--server", server, "--token", token]).status == 0)
        let otherStore = try await runCoordctl(
            ["status", "--server", server, "--token", token, "--store", "00000000-0000-4000-8000-000000000002"])
        #expect(otherStore.status == 1 && otherStore.err.hasPrefix("error: access_denied"), "\(otherStore)")
        let anonymous = try await runCoordctl(["status", "--server", server])
        #expect(anonymous.status == 1 && anonymous.err.hasPrefix("error: unauthorized"), "\(anonymous)")
        let missing = try await runCoordctl(["token", "mint", "--hs256-secret-file", scratch.path + "/none"])
        #expect(missing.status == 2 && missing.err.contains("cannot open"), "\(missing)")
    }

    @Test func helpExitsZeroEverywhere() async throws {
        for arguments in [["--help"], ["lease", "--help"], ["token", "mint", "--help"], ["workers", "--nonsense", "--help"],
                          ["help", "completion"], ["nosuch", "-h"]] {
            let result = try await runCoordctl(arguments)
            #expect(result.status == 0 && result.out.hasPrefix("Usage: coordctl") && result.err.isEmpty, "\(arguments): \(result)")
        }
        let bench = try await runProgram(try DaemonProcess.executable("coordbench"), ["--help"])
        #expect(bench.status == 0 && bench.out.hasPrefix("usage: coordbench"), "\(bench)")
        let benchBad = try await runProgram(try DaemonProcess.executable("coordbench"), [])
        #expect(benchBad.status == 2 && benchBad.err.hasPrefix("usage: coordbench"))
    }

    @Test func bashCompletionCompletesCommandsSubcommandsAndOptions() async throws {
        let script = try await runCoordctl(["completion", "bash"])
        #expect(script.status == 0)
        func complete(_ line: String) async throws -> [String] {
            let words = line.split(separator: " ", omittingEmptySubsequences: false).map { "'\($0)'" }.joined(separator: " ")
            let program = script.out + """
                COMP_WORDS=(\(words)); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _coordctl; printf '%s\\n' "${COMPREPLY[@]}"
                """
            return try await runProgram("/bin/bash", ["-c", program]).out.split(separator: "\n").map(String.init)
        }
        #expect(try await complete("coordctl le") == ["lease"])
        #expect(try await complete("coordctl lease ") == ["acquire", "renew", "release", "list"])
        #expect(try await complete("coordctl --server ws://x:1 lease acquire k --w") == ["--wait"])
        #expect(try await complete("coordctl token mint --hs") == ["--hs256-secret-file"])
        #expect(try await complete("coordctl completion ") == ["bash", "zsh"])
        let zsh = try await runCoordctl(["completion", "zsh"])
        #expect(zsh.status == 0 && zsh.out.hasPrefix("#compdef coordctl") && zsh.out.contains("\"token mint\") candidates=("))
    }
}
