import Transport

/// Network fixtures shared by every live test in a process: one event loop group and the TLS
/// contexts built from ``Certificates/shared``.
public enum TestNetwork {
    /// Two loops, as on the two-core machines the suite runs on. Never shut down: live tests start and
    /// stop servers and clients on it all through the run, and its threads end with the process.
    public static let group: EventLoopGroup = {
        // A test process that cannot start two event loop threads cannot run any live test.
        try! EventLoopGroup(loopCount: 2)
    }()

    /// A server context with the test server certificate (127.0.0.1 and localhost).
    public static let serverTLS: TLSContext = {
        let certificates = Certificates.shared
        // The fixtures were just generated; a context that cannot load them means a broken test setup.
        return try! TLSContext(
            .server(certificateChainFile: certificates.serverCertificate, privateKeyFile: certificates.serverKey))
    }()

    /// A client context trusting the test CA.
    public static let clientTLS: TLSContext = {
        // As above: the CA file was just generated.
        try! TLSContext(.client(trust: .certificateAuthorityFile(Certificates.shared.caCertificate)))
    }()
}
