import CoordTestKit
import Foundation
import StreamCore
import Testing

/// The real `coordd` run out of descriptors (under a low `ulimit -n`): each failure is a warn line
/// naming the resource and a counter on `/metrics`. A child process, because descriptor limits are
/// process-wide and the suites of this process run in parallel.
@Suite(.serialized)
struct DaemonDescriptorTests {
    /// `/metrics` once the daemon has a descriptor to accept the scrape with (polled for up to 20 s).
    static func scrape(port: Int) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            if let (status, body) = try? await httpGet(port: port, path: "/metrics"), status == 200 { return body }
            guard ContinuousClock.now < deadline else { throw DaemonProcessError("no /metrics answer within 20 s") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// The value of the sample line `series` (name and labels exactly).
    static func value(_ series: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
    }

    /// Lines of the log whose message is `message`.
    static func lines(_ message: String, in daemon: DaemonProcess) -> [Substring] {
        daemon.logText.split(separator: "\n").filter { $0.contains("msg=\"\(message)\"") }
    }

    @Test(.timeLimit(.minutes(2)))
    func acceptingWithoutADescriptorLeftIsAWarnLineAndACounter() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-accept-emfile")
        defer { scratch.remove() }
        let daemon = try DaemonProcess(
            arguments: ["--listen", "127.0.0.1:0", "--storage", "memory"], logPath: scratch.path + "/d.log",
            openFilesLimit: DaemonStoreLimitTests.openFilesLimit)
        defer { daemon.stop() }
        let address = try await daemon.listeningAddress()
        let port = try #require(address.split(separator: ":").last.flatMap { Int($0) })
        // More connections than the daemon has descriptors: the kernel queues the rest, accept fails.
        var sockets: [RawSocket] = []
        for _ in 0..<(2 * DaemonStoreLimitTests.openFilesLimit) { sockets.append(try await RawSocket.connect(port: port)) }
        // Polled every 100 ms for up to 20 s.
        for _ in 0..<200 where Self.lines("out of descriptors", in: daemon).isEmpty {
            try await Task.sleep(for: .milliseconds(100))
        }
        let line = try #require(Self.lines("out of descriptors", in: daemon).first, "log:\n\(daemon.logText)")
        #expect(line.contains("level=warn ") && line.contains(" during=accept ") && line.contains(" errno=EMFILE "), "\(line)")
        sockets.removeAll()

        let text = try await Self.scrape(port: port)
        #expect((Self.value("coordd_accept_failures_total{errno=\"EMFILE\"}", in: text) ?? 0) >= 1)
        #expect((Self.value("coordd_resource_exhaustion_total{resource=\"descriptors\",during=\"accept\"}", in: text) ?? 0) >= 1)
        // However long it lasted, at most ten lines a second, and the rest summarized.
        #expect(Self.lines("out of descriptors", in: daemon).count <= 10 * 25)
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(seconds: 15).status == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func aStoreThatFindsNoDescriptorNamesTheResourceInItsLineAndItsCounters() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-store-emfile")
        defer { scratch.remove() }
        let (daemon, port) = try await DaemonStoreLimitTests.start(scratch, ["--max-open-stores", "1000"])
        defer { daemon.stop() }
        let (_, error) = try await DaemonStoreLimitTests.openStores(DaemonStoreLimitTests.openFilesLimit, port: port)
        #expect(error?.name == "store_unavailable")
        let line = try #require(Self.lines("store open failed", in: daemon).first, "log:\n\(daemon.logText)")
        #expect(line.contains(" resource=descriptors "), "\(line)")

        let text = try await Self.scrape(port: port)
        #expect((Self.value("coordd_store_open_failures_total{cause=\"descriptors\"}", in: text) ?? 0) >= 1)
        #expect((Self.value("coordd_resource_exhaustion_total{resource=\"descriptors\",during=\"store_open\"}", in: text) ?? 0) >= 1)
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(seconds: 15).status == 0)
    }
}
