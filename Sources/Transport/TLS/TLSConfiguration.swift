/// What a ``TLSContext`` is built from: the role, the files, and whom to trust.
///
/// Build one with ``server(certificateChainFile:privateKeyFile:clientCertificateAuthorityFile:minimumVersion:)``
/// or ``client(trust:certificateChainFile:privateKeyFile:minimumVersion:)``. It holds paths only;
/// the files are read when the context is created, and every problem with them is reported then.
public struct TLSConfiguration: Sendable, Hashable {
    /// Which side of the handshake a context serves.
    public enum Role: Sendable, Hashable {
        /// Accepts connections and presents a certificate.
        case server
        /// Opens connections and verifies the server's certificate.
        case client
    }

    /// Certificate authorities that verify the peer's certificate.
    public enum Trust: Sendable, Hashable {
        /// The operating system's trust store (`SSL_CTX_set_default_verify_paths`).
        case systemDefault
        /// The CA certificates in one PEM file.
        case certificateAuthorityFile(String)
    }

    /// The oldest protocol version a context accepts. There is no option below TLS 1.2.
    public enum ProtocolVersion: Sendable, Hashable, Comparable {
        /// TLS 1.2 (RFC 5246).
        case tls12
        /// TLS 1.3 (RFC 8446).
        case tls13
    }

    /// Server or client.
    public var role: Role
    /// PEM file with this side's certificate followed by any intermediates. Required for a server;
    /// optional for a client (its certificate for mutual TLS).
    public var certificateChainFile: String?
    /// PEM file with the private key of ``certificateChainFile``'s first certificate.
    public var privateKeyFile: String?
    /// Whom to trust for the peer's certificate. A server with a value requires every client to
    /// present a certificate that verifies against it (mutual TLS); a server without one asks for
    /// none. A client always verifies the server, against the system store when this is nil.
    public var peerTrust: Trust?
    /// The oldest protocol version accepted; TLS 1.2 unless raised.
    public var minimumVersion: ProtocolVersion

    /// A server configuration; with `clientCertificateAuthorityFile`, clients must present a
    /// certificate issued by one of the CAs in that file.
    public static func server(
        certificateChainFile: String,
        privateKeyFile: String,
        clientCertificateAuthorityFile: String? = nil,
        minimumVersion: ProtocolVersion = .tls12
    ) -> TLSConfiguration {
        TLSConfiguration(
            role: .server, certificateChainFile: certificateChainFile, privateKeyFile: privateKeyFile,
            peerTrust: clientCertificateAuthorityFile.map { .certificateAuthorityFile($0) },
            minimumVersion: minimumVersion)
    }

    /// A client configuration that verifies servers against `trust`, optionally presenting its own
    /// certificate (both files or neither).
    public static func client(
        trust: Trust = .systemDefault,
        certificateChainFile: String? = nil,
        privateKeyFile: String? = nil,
        minimumVersion: ProtocolVersion = .tls12
    ) -> TLSConfiguration {
        TLSConfiguration(
            role: .client, certificateChainFile: certificateChainFile, privateKeyFile: privateKeyFile,
            peerTrust: trust, minimumVersion: minimumVersion)
    }
}
