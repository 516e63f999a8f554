import Ownership
import StreamCore
import Transport

/// What the daemon builds from its configuration before it listens: the TLS context, the token
/// verifier, and the stores' opening. Each failure names the file or directory at fault.
public enum DaemonResources {
    /// The listener's TLS context, or nil for plain TCP.
    public static func tlsContext(_ configuration: DaemonConfiguration) throws(DaemonStartError) -> TLSContext? {
        guard let certificate = configuration.tlsCertificateFile, let key = configuration.tlsKeyFile else { return nil }
        do {
            return try TLSContext(.server(certificateChainFile: certificate, privateKeyFile: key,
                                          clientCertificateAuthorityFile: configuration.tlsClientCAFile))
        } catch {
            throw DaemonStartError(.configuration, "TLS: \(error.message)")
        }
    }

    /// The bearer-token verifier, or nil when no token key is configured.
    public static func verifier(_ configuration: DaemonConfiguration) throws(DaemonStartError) -> JWTVerifier? {
        guard configuration.requiresTokens else { return nil }
        do {
            return try JWTVerifier(
                hmacSecretFile: configuration.jwtHS256SecretFile, publicKeyFile: configuration.jwtPublicKeyFile)
        } catch {
            throw DaemonStartError(.configuration, "tokens: \(error.message)")
        }
    }

    /// The stores as the configuration says: file stores in `<data-dir>/<store-uuid>/` (creating the
    /// data directory and its parents now, so a bad path fails at start), memory stores, or PostgreSQL
    /// stores (whose connections are made once the PostgreSQL service starts), each opened once this daemon
    /// took it over (its ownerships log to `logger`).
    public static func storeCatalog(_ configuration: DaemonConfiguration, logger: Logger = Logger(sink: { _ in }))
        throws(DaemonStartError) -> any StoreCatalog
    {
        let catalog: any StoreCatalog
        switch configuration.storage {
        case .memory:
            catalog = MadeStoreCatalog.memory(maxStores: configuration.maxOpenStores)
        case .file:
            let root = configuration.dataDirectory
            do {
                try makeDirectories(root)
            } catch {
                throw DaemonStartError(.environment, "cannot create the data directory \(root): \(error)")
            }
            catalog = FileStoreCatalog(root: root)
        case .postgres:
            let status = try PostgresStorageStatus.make(configuration)
            let ownerships = StoreOwnerships(
                pool: status.pool, nodeID: configuration.clusterNodeID, timing: OwnershipTiming(ttlMs: configuration.ownershipTTLMs),
                advertiseURL: configuration.advertiseURL, clock: SystemMonotonicClock(), logger: logger)
            catalog = PostgresStoreCatalog(status: status, ownerships: ownerships)
        }
        return catalog
    }

    /// Creates the stores `--stores` declares that do not exist yet. Called once the data directory is
    /// locked, so a refused second daemon creates nothing.
    public static func createDeclaredStores(_ configuration: DaemonConfiguration, in catalog: any StoreCatalog)
        async throws(DaemonStartError)
    {
        for store in configuration.declaredStores {
            do {
                _ = try await catalog.create(store)
            } catch {
                throw DaemonStartError(.environment, "cannot create the declared store \(store): \(error.message)")
            }
        }
    }

    /// `mkdir -p`: every missing directory along `path`.
    static func makeDirectories(_ path: String) throws(IOError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += component
            try Posix.makeDirectory(prefix)
            prefix += "/"
        }
    }
}

extension DaemonResources {
    /// Raises the soft open-files limit to the hard one (one descriptor per connection) and returns it.
    public static func raiseOpenFileLimit() throws(DaemonStartError) -> UInt64 {
        do {
            return try OpenFileLimit.raiseToHardLimit()
        } catch {
            throw DaemonStartError(.environment, "cannot raise the open files limit: \(error)")
        }
    }
}

extension DaemonResources {
    /// The daemon's cluster part: `router`'s routes, links to other daemons authenticated with the
    /// `--cluster-secret-file` credential (when given), which the daemon also accepts from them.
    /// The node id links present is `--cluster-node-id`, else the listen address.
    public static func cluster(
        _ configuration: DaemonConfiguration, router: any StoreRouter,
        group: @escaping @Sendable () -> EventLoopGroup?
    ) throws(DaemonStartError) -> DaemonCluster {
        let credential = try configuration.clusterSecretFile.map { (path) throws(DaemonStartError) in
            try ClusterCredential.load(path: path, clientSecretFile: configuration.jwtHS256SecretFile)
        }
        let links = ClusterLinks(nodeID: configuration.clusterNodeID ?? configuration.listen.description, credential: credential, group: group)
        let forwarder = StreamForwarder(links: links, failed: { router.forwardFailed($0) })
        return DaemonCluster(router: router, forwarder: forwarder, credential: credential)
    }
}
