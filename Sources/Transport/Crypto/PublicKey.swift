import COpenSSL

/// A signature scheme a ``PublicKey`` can check.
public enum SignatureAlgorithm: Sendable, Hashable {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (JWT `RS256`, RFC 7518 §3.3).
    case rsaPKCS1SHA256
    /// ECDSA on P-256 with SHA-256 (JWT `ES256`, RFC 7518 §3.4). The signature is the raw 64-byte
    /// `r || s` form JWTs use, not DER.
    case ecdsaP256SHA256
}

/// A public key loaded from PEM (`-----BEGIN PUBLIC KEY-----`, SubjectPublicKeyInfo), used to
/// check signatures.
///
/// `@unchecked Sendable`: the `EVP_PKEY` is never changed after `init`, and OpenSSL documents
/// concurrent use of an unchanging key for verification from several threads as safe.
public final class PublicKey: @unchecked Sendable {
    /// What kind of key this is.
    public enum KeyType: Sendable, Hashable {
        /// An RSA key with a modulus of `bits` bits.
        case rsa(bits: Int)
        /// An elliptic-curve key on the named curve (OpenSSL's name, `prime256v1` for P-256).
        case ellipticCurve(curve: String)
        /// Any other key type, by OpenSSL's name (e.g. `ED25519`).
        case other(String)
    }

    /// The key's type and size.
    public let keyType: KeyType
    /// The `EVP_PKEY *`, owned by this object.
    private let key: OpaquePointer

    /// Parses a PEM public key held in memory.
    public init(pem: some Collection<UInt8>) throws(CryptoError) {
        key = try OpenSSLBuffers.withContiguousBytes(of: pem) { (bytes) throws(CryptoError) -> OpaquePointer in
            OpenSSLErrorQueue.clear()
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(clamping: bytes.count)) else {
                throw CryptoError("cannot read the PEM text: \(OpenSSLErrorQueue.drainedReason(fallback: "BIO_new_mem_buf failed"))")
            }
            defer { BIO_free(bio) }
            guard let key = PEM_read_bio_PUBKEY(bio, nil, nil, nil) else {
                throw CryptoError(
                    "no PEM public key (BEGIN PUBLIC KEY) found: \(OpenSSLErrorQueue.drainedReason(fallback: "PEM_read_bio_PUBKEY failed"))")
            }
            return key
        }
        keyType = Self.describe(key)
    }

    /// Loads a PEM public key from the file at `path`; the error names the file.
    public convenience init(pemFile path: String) throws(CryptoError) {
        let contents = try SecretFile.contents(ofFile: path)
        do {
            try self.init(pem: contents)
        } catch {
            throw CryptoError("cannot load a public key from \(path): \(error.message)")
        }
    }

    deinit {
        EVP_PKEY_free(key)
    }

    /// True when `signature` is a valid `algorithm` signature of `message` by this key. False for
    /// a wrong signature, a malformed one, or an algorithm that does not fit the key type.
    public func isValidSignature(
        _ signature: some Collection<UInt8>, for message: some Collection<UInt8>, algorithm: SignatureAlgorithm
    ) -> Bool {
        let encoded: [UInt8]
        switch (algorithm, keyType) {
        case (.rsaPKCS1SHA256, .rsa):
            encoded = Array(signature)
        case (.ecdsaP256SHA256, .ellipticCurve(let curve)) where curve == "prime256v1":
            guard let der = Self.derSignature(fromRaw: Array(signature)) else { return false }
            encoded = der
        default:
            return false
        }
        return OpenSSLBuffers.withContiguousBytes(of: message) { message in
            verify(encoded, message)
        }
    }

    private func verify(_ signature: [UInt8], _ message: UnsafeRawBufferPointer) -> Bool {
        OpenSSLErrorQueue.clear()
        // Clear whatever a failed check queued so it is not blamed on the thread's next call.
        defer { OpenSSLErrorQueue.clear() }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        // RSA keys default to PKCS#1 v1.5 padding, which is what RS256 means.
        guard EVP_DigestVerifyInit_ex(context, nil, "SHA256", nil, nil, key, nil) == 1 else { return false }
        return signature.withUnsafeBufferPointer { signature in
            EVP_DigestVerify(
                context, signature.baseAddress, signature.count,
                message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count) == 1
        }
    }

    /// Converts a JWT ECDSA P-256 signature (`r || s`, 32 bytes each, big-endian) to the DER
    /// `ECDSA-Sig-Value` OpenSSL verifies; nil when it is not 64 bytes.
    static func derSignature(fromRaw raw: [UInt8]) -> [UInt8]? {
        let half = 32
        guard raw.count == 2 * half, let signature = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(signature) }
        let (r, s) = raw.withUnsafeBufferPointer { raw in
            (BN_bin2bn(raw.baseAddress, Int32(half), nil), BN_bin2bn(raw.baseAddress.map { $0 + half }, Int32(half), nil))
        }
        guard let r, let s, ECDSA_SIG_set0(signature, r, s) == 1 else {
            // ECDSA_SIG_set0 takes ownership only when it succeeds.
            BN_free(r)
            BN_free(s)
            return nil
        }
        let length = i2d_ECDSA_SIG(signature, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return i2d_ECDSA_SIG(signature, &cursor)
        }
        return written == length ? der : nil
    }

    private static func describe(_ key: OpaquePointer) -> KeyType {
        if EVP_PKEY_is_a(key, "RSA") == 1 {
            return .rsa(bits: Int(EVP_PKEY_get_bits(key)))
        }
        if EVP_PKEY_is_a(key, "EC") == 1 {
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            let ok = EVP_PKEY_get_group_name(key, &name, name.count, &length)
            let curve = ok == 1 ? String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown"
            return .ellipticCurve(curve: curve)
        }
        let typeName = EVP_PKEY_get0_type_name(key).map { String(cString: $0) } ?? "unknown"
        return .other(typeName)
    }
}
