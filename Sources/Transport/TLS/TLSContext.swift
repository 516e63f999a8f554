import COpenSSL

/// An OpenSSL `SSL_CTX` built from a ``TLSConfiguration``: loaded certificates, key and trust.
///
/// Create one per listener (or per client configuration) at start-up and share it; every
/// ``TLSEngine`` made from it reuses the loaded material.
///
/// `@unchecked Sendable`: the `SSL_CTX` is fully configured inside `init` and never changed after,
/// and OpenSSL documents creating `SSL` objects from a shared, unchanging `SSL_CTX` on several
/// threads at once as safe (its reference counts are atomic).
public final class TLSContext: @unchecked Sendable {
    /// The configuration this context was built from.
    public let configuration: TLSConfiguration
    /// The `SSL_CTX *`, owned by this object.
    let context: OpaquePointer

    /// Loads the files named by `configuration` and prepares a context.
    ///
    /// Throws a ``TLSError`` of kind ``TLSError/Kind/configuration`` that names the file and carries
    /// OpenSSL's reason when a certificate, key or CA file is missing or unreadable, when the key
    /// does not belong to the certificate, or when a server has no certificate.
    public init(_ configuration: TLSConfiguration) throws(TLSError) {
        self.configuration = configuration
        OpenSSLErrorQueue.clear()
        let method = configuration.role == .server ? TLS_server_method() : TLS_client_method()
        guard let context = SSL_CTX_new(method) else {
            throw TLSError(.configuration, "cannot create a TLS context: \(OpenSSLErrorQueue.drainedReason(fallback: "SSL_CTX_new failed"))")
        }
        self.context = context
        // From here on `deinit` frees the context if a later step throws.
        try configure()
    }

    deinit {
        SSL_CTX_free(context)
    }

    private func configure() throws(TLSError) {
        let version = configuration.minimumVersion == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION
        guard coordd_SSL_CTX_set_min_proto_version(context, version) == 1 else {
            throw failure("cannot set the minimum protocol version")
        }
        coordd_SSL_CTX_disable_renegotiation(context)

        switch (configuration.certificateChainFile, configuration.privateKeyFile) {
        case let (certificate?, key?):
            try loadIdentity(certificateChainFile: certificate, privateKeyFile: key)
        case (nil, nil):
            if configuration.role == .server {
                throw TLSError(.configuration, "a TLS server needs a certificate chain file and a private key file")
            }
        case (_?, nil):
            throw TLSError(.configuration, "a certificate chain file was given without its private key file")
        case (nil, _?):
            throw TLSError(.configuration, "a private key file was given without its certificate chain file")
        }

        switch configuration.role {
        case .server:
            // OpenSSL refuses to resume a session on a verifying server unless the context names
            // its sessions; any fixed name will do, since each listener has its own context.
            let sessionContext = Array("coordd".utf8)
            guard SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count)) == 1 else {
                throw failure("cannot set the session id context")
            }
            if let trust = configuration.peerTrust {
                try loadTrust(trust)
                if case .certificateAuthorityFile(let path) = trust {
                    try advertiseClientCertificateAuthorities(from: path)
                }
                coordd_SSL_CTX_require_peer_certificate(context)
            }
        case .client:
            try loadTrust(configuration.peerTrust ?? .systemDefault)
            coordd_SSL_CTX_verify_peer(context)
        }
    }

    private func loadIdentity(certificateChainFile: String, privateKeyFile: String) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard SSL_CTX_use_certificate_chain_file(context, certificateChainFile) == 1 else {
            throw failure("cannot load the certificate chain from \(certificateChainFile)")
        }
        guard coordd_SSL_CTX_use_PrivateKey_PEM_file(context, privateKeyFile) == 1 else {
            // OpenSSL already compares the key with the certificate while loading it; say so plainly.
            let last = ERR_peek_last_error()
            if ERR_GET_LIB(last) == ERR_LIB_X509 && ERR_GET_REASON(last) == X509_R_KEY_VALUES_MISMATCH {
                throw failure("the private key in \(privateKeyFile) does not match the certificate in \(certificateChainFile)")
            }
            throw failure("cannot load the private key from \(privateKeyFile)")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw failure("the private key in \(privateKeyFile) does not match the certificate in \(certificateChainFile)")
        }
    }

    private func loadTrust(_ trust: TLSConfiguration.Trust) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        switch trust {
        case .systemDefault:
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw failure("cannot load the system trust store")
            }
        case .certificateAuthorityFile(let path):
            guard SSL_CTX_load_verify_file(context, path) == 1 else {
                throw failure("cannot load CA certificates from \(path)")
            }
        }
    }

    /// Sends the CA names in a server's CertificateRequest so a client can pick the right certificate.
    private func advertiseClientCertificateAuthorities(from path: String) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let names = SSL_load_client_CA_file(path) else {
            throw failure("cannot read CA names from \(path)")
        }
        SSL_CTX_set_client_CA_list(context, names)  // takes ownership of `names`
    }

    private func failure(_ step: String) -> TLSError {
        TLSError(.configuration, "\(step): \(OpenSSLErrorQueue.drainedReason(fallback: "no reason given by OpenSSL"))")
    }
}
