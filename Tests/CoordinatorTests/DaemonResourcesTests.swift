import CoordTestKit
import Coordinator
import Foundation
import StreamCore
import Testing

struct DaemonResourcesTests {
    @Test func fileStoresLiveInOneDirectoryPerStoreUnderTheDataDirectory() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-data")
        defer { scratch.remove() }
        var configuration = DaemonConfiguration()
        configuration.dataDirectory = scratch.path + "/nested/data"
        let declared = WireUUID.random()
        configuration.declaredStores = [declared]
        let catalog = try DaemonResources.storeCatalog(configuration)
        #expect(FileManager.default.fileExists(atPath: configuration.dataDirectory), "created at start")
        #expect(!FileManager.default.fileExists(atPath: configuration.dataDirectory + "/\(declared)"),
                "declared stores are created only once the directory is locked")
        try await DaemonResources.createDeclaredStores(configuration, in: catalog)
        #expect(FileManager.default.fileExists(atPath: configuration.dataDirectory + "/\(declared)"), "declared stores too")
        let containsDeclared = try await catalog.contains(declared)
        #expect(containsDeclared && catalog.keepsContentsWhenClosed)
        let containsDefault = try await catalog.contains(.defaultStore)
        #expect(!containsDefault, "a store exists once created or opened")
        let store = try await catalog.open(.defaultStore)
        #expect(store.storageKind == "file")
        #expect(FileManager.default.fileExists(atPath: configuration.dataDirectory + "/00000000-0000-4000-8000-000000000001"))
        #expect(try await catalog.contains(.defaultStore))
        await store.close()
        let other = WireUUID.random()
        let createdFirst = try await catalog.create(other)
        let createdAgain = try await catalog.create(other)
        #expect(createdFirst && !createdAgain, "created once, then it exists")
        #expect(try await catalog.contains(other))
    }

    @Test func memoryStorageTouchesNoDirectoryAndKeepsASetOfStores() async throws {
        var configuration = DaemonConfiguration()
        configuration.storage = .memory
        configuration.dataDirectory = "/nonexistent/never-created"
        configuration.maxOpenStores = 2
        let declared = WireUUID.random()
        configuration.declaredStores = [declared]
        let catalog = try DaemonResources.storeCatalog(configuration)
        try await DaemonResources.createDeclaredStores(configuration, in: catalog)
        let containsDeclared = try await catalog.contains(declared)
        #expect(containsDeclared && !catalog.keepsContentsWhenClosed)
        let store = try await catalog.open(.random())
        #expect(store.storageKind == "memory")
        #expect(!FileManager.default.fileExists(atPath: configuration.dataDirectory))
        await #expect(throws: StreamsError.storeUnavailable(because: "this daemon holds at most 2 stores in memory (the open stores limit)")) {
            _ = try await catalog.create(.random())
        }
    }

    @Test func anUncreatableDataDirectoryIsAnEnvironmentError() throws {
        var configuration = DaemonConfiguration()
        configuration.dataDirectory = "/proc/coordd-cannot-be-here"
        #expect {
            _ = try DaemonResources.storeCatalog(configuration)
        } throws: { error in
            (error as? DaemonStartError).map { $0.kind == .environment && $0.exitStatus == 1 && $0.message.contains("/proc/coordd") } ?? false
        }
    }

    @Test func tlsAndTokenFilesAreLoadedOrNamedInTheError() throws {
        let certificates = Certificates.shared
        var configuration = DaemonConfiguration()
        #expect(try DaemonResources.tlsContext(configuration) == nil)
        #expect(try DaemonResources.verifier(configuration) == nil)

        configuration.tlsCertificateFile = certificates.serverCertificate
        configuration.tlsKeyFile = certificates.serverKey
        configuration.tlsClientCAFile = certificates.caCertificate
        #expect(try DaemonResources.tlsContext(configuration) != nil)
        configuration.tlsKeyFile = "/nonexistent/server.key"
        #expect {
            _ = try DaemonResources.tlsContext(configuration)
        } throws: { error in
            (error as? DaemonStartError).map { $0.exitStatus == 2 && $0.message.contains("/nonexistent/server.key") } ?? false
        }

        configuration.jwtPublicKeyFile = certificates.ecPublicKey
        #expect(try DaemonResources.verifier(configuration)?.acceptedAlgorithms == ["ES256"])
        configuration.jwtPublicKeyFile = certificates.weakRSAPublicKey
        #expect {
            _ = try DaemonResources.verifier(configuration)
        } throws: { error in
            (error as? DaemonStartError).map { $0.kind == .configuration && $0.message.contains(certificates.weakRSAPublicKey) } ?? false
        }
    }
}
