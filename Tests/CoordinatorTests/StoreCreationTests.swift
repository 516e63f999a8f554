import CoordClient
import CoordTestKit
import Coordinator
import Foundation
import StreamCore
import Testing
import Transport

/// `--auto-create-stores false`, `--stores` and `store_create`: a mistyped store UUID is refused instead
/// of becoming a new store.
@Suite(.serialized) struct StoreCreationTests {
    @Test(arguments: [DaemonConfiguration.Storage.file, .memory])  // postgres: PostgresDaemonTests
    func withoutAutoCreationAnUnknownStoreIsRefusedAndNothingIsCreatedUntilStoreCreate(
        _ storage: DaemonConfiguration.Storage
    ) async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-create")
        defer { scratch.remove() }
        let declared = WireUUID.random()
        var configuration = DaemonLifecycleTests.configuration(storage, dataDirectory: scratch.path + "/data")
        configuration.autoCreateStores = false
        configuration.declaredStores = [declared]
        let lines = LineCollector()
        let daemon = try await Daemon.start(configuration, logger: Logger(level: .debug, sink: lines.sink), loopCount: 1)
        let provider = try WebSocketProvider(url: "ws://127.0.0.1:\(daemon.localAddress.port)", group: TestNetwork.group)
        func client(_ store: WireUUID) -> CoordClient { CoordClient(provider: provider, store: store) }
        // The store directories (the data directory also holds the daemon's lock file).
        func stores() -> Set<String> {
            Set(((try? FileManager.default.contentsOfDirectory(atPath: scratch.path + "/data")) ?? []).filter { WireUUID($0) != nil })
        }

        let unknown = WireUUID.random()
        let missing = client(unknown)
        let errors = [
            await StreamsError.of { _ = try await missing.spaces() },
            await StreamsError.of { _ = try await missing.produce(space: "s", segment: "g", records: makeRecords(1)) },
            await StreamsError.of { _ = try await missing.acquire(key: "k", holder: "h", ttl: .seconds(1)) },
        ]
        for error in errors {
            #expect(error == .storeNotFound(unknown) && error?.code == .permanent, "\(String(describing: error))")
        }
        #expect(lines.all.contains { $0.contains("msg=\"store not found\" store=\(unknown)") })
        #expect(daemon.nodes.openNodes.map(\.storeID) == [.defaultStore], "nothing opened for it")
        if storage == .file {
            #expect(stores() == [WireUUID.defaultStore.description, declared.description], "nothing created on disk")
        }

        // Declared stores and the default store exist.
        try await client(declared).produce(space: "s", segment: "g", records: makeRecords(1))
        #expect(try await client(.defaultStore).createStore() == false)
        #expect(try await client(declared).createStore() == false)

        // Created explicitly, once.
        #expect(try await client(unknown).createStore())
        #expect(lines.all.contains { $0.contains("msg=\"store created\" store=\(unknown)") })
        #expect(!daemon.nodes.openNodes.map(\.storeID).contains(unknown), "created, not opened")
        if storage == .file { #expect(stores().contains(unknown.description)) }
        #expect(try await client(unknown).createStore() == false)
        try await client(unknown).produce(space: "s", segment: "g", records: makeRecords(2))
        #expect(try await client(unknown).status().entries == 2)

        await provider.close()
        await daemon.shutdown()
    }

    @Test func withAutoCreationAStreamCreatesItsStoreAndStoreCreateSaysSo() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-create")
        defer { scratch.remove() }
        let daemon = try await Daemon.start(
            DaemonLifecycleTests.configuration(.file, dataDirectory: scratch.path + "/data"), logger: Logger(sink: { _ in }),
            loopCount: 1)
        let provider = try WebSocketProvider(url: "ws://127.0.0.1:\(daemon.localAddress.port)", group: TestNetwork.group)
        let used = CoordClient(provider: provider, store: .random())
        #expect(try await used.spaces().isEmpty, "streamkit's behaviour: first use creates")
        #expect(try await used.createStore() == false)
        let fresh = CoordClient(provider: provider, store: .random())
        #expect(try await fresh.createStore())
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/data/\(fresh.store)"))
        #expect(try await fresh.createStore() == false)
        await provider.close()
        await daemon.shutdown()
    }

    @Test func storeCreateNeedsATokenThatCoversTheStore() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-create")
        defer { scratch.remove() }
        var node = NodeConfiguration()
        node.autoCreateStores = false
        let manager = NodeManager(configuration: node, catalog: FileStoreCatalog(root: scratch.path))
        let daemon = try await NetworkDaemon.start(verifier: JWTFixture.hmacVerifier(), allowAnonymous: false, manager: manager)
        let allowed = WireUUID.random()
        let other = WireUUID.random()
        let provider = try daemon.provider(token: hs256Token(scopes: #"["streamkit::\#(allowed)"]"#))
        #expect(try await CoordClient(provider: provider, store: allowed).createStore())
        let denied = await StreamsError.of { _ = try await CoordClient(provider: provider, store: other).createStore() }
        #expect(denied == .accessDenied)
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/\(other)"))
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/\(allowed)"))
        await provider.close()
        await daemon.stop()
    }
}
