import CoordClient
import CoordTestKit
import Foundation
import StreamCore
import Testing
import Transport

/// The real `coordd` under a small descriptor limit: without a bound on open stores, opening store
/// after store runs out of descriptors; each stream that finds none fails at once with the cause while
/// the stores already open go on. With the bound, idle stores are closed first and every store opens.
@Suite(.serialized)
struct DaemonStoreLimitTests {
    static let openFilesLimit = 48

    /// Opens `count` new stores one after another; returns how many opened and the first error.
    static func openStores(_ count: Int, port: Int) async throws -> (opened: Int, error: StreamsError?) {
        let provider = try WebSocketProvider(url: "ws://127.0.0.1:\(port)", group: TestNetwork.group)
        var result: (opened: Int, error: StreamsError?) = (count, nil)
        for opened in 0..<count {
            let client = CoordClient(provider: provider, store: .random())
            do {
                _ = try await withDeadline { try await client.spaces() }
            } catch {
                result = (opened, error as? StreamsError ?? .internalError("\(error)"))
                break
            }
        }
        await provider.close()
        return result
    }

    static func start(_ scratch: TemporaryDirectory, _ extra: [String]) async throws -> (DaemonProcess, Int) {
        let daemon = try DaemonProcess(
            arguments: ["--listen", "127.0.0.1:0", "--data-dir", scratch.path + "/data"] + extra,
            logPath: scratch.path + "/d.log", openFilesLimit: openFilesLimit)
        let address = try await daemon.listeningAddress()
        return (daemon, try #require(address.split(separator: ":").last.flatMap { Int($0) }))
    }

    @Test(.timeLimit(.minutes(2)))
    func aStoreThatFindsNoDescriptorFailsAtOnceWithTheCauseAndTheOpenStoresGoOn() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-emfile")
        defer { scratch.remove() }
        let (daemon, port) = try await Self.start(scratch, ["--max-open-stores", "1000"])
        defer { daemon.stop() }
        let (opened, error) = try await Self.openStores(Self.openFilesLimit, port: port)
        #expect(opened > 0, "some stores open before the descriptors run out")
        let failure = try #require(error, "\(Self.openFilesLimit) stores opened under a limit of \(Self.openFilesLimit) descriptors")
        #expect(failure.name == "store_unavailable" && failure.code == .transient)
        #expect(failure.message.hasPrefix("store unavailable: ") && failure.message.contains("Too many open files"),
                "\(failure.message)")
        #expect(daemon.logText.contains("level=warn msg=\"store open failed\""))
        // The stores already open go on.
        let provider = try WebSocketProvider(url: "ws://127.0.0.1:\(port)", group: TestNetwork.group)
        let client = CoordClient(provider: provider, store: .defaultStore)
        try await withDeadline { _ = try await client.produce(space: "s", segment: "g", records: [Record(sequence: 1, payload: [1])]) }
        await provider.close()
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(seconds: 15).status == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func underTheOpenStoresLimitIdleStoresCloseAndEveryStoreOpens() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-bound")
        defer { scratch.remove() }
        let (daemon, port) = try await Self.start(scratch, ["--max-open-stores", "8"])
        defer { daemon.stop() }
        let (opened, error) = try await Self.openStores(2 * Self.openFilesLimit, port: port)
        #expect(error == nil && opened == 2 * Self.openFilesLimit, "\(String(describing: error))")
        #expect(daemon.logText.contains("reason=evicted"))
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(seconds: 15).status == 0)
    }
}
