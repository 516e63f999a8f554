import StreamCore
import Transport

/// The shared secret daemons of one cluster authenticate each other with (`--cluster-secret-file`).
///
/// A forwarding daemon presents a short-lived HS256 token made from it, with the all-stores scope and
/// the subject `coordd-cluster:<node id>`; a daemon given the same secret accepts such a token on top of
/// its own client token verification, and trusts the forwarder's check of the client's scopes.
public struct ClusterCredential: Sendable {
    /// The subject prefix that marks a cluster token: a client token signed with another key can never
    /// verify here, and this prefix keeps the two kinds apart in logs.
    public static let subjectPrefix = "coordd-cluster:"

    private let secret: [UInt8]
    private let verifier: JWTVerifier
    private let lifetimeSeconds: Int64

    /// A credential from the secret's bytes (at least ``AuthLimits/minimumHMACSecretBytes``).
    public init(secret: [UInt8], lifetimeSeconds: Int64 = ClusterLimits().tokenLifetimeSeconds) throws(JWTConfigurationError) {
        verifier = try JWTVerifier(hmacSecret: secret)
        self.secret = secret
        self.lifetimeSeconds = lifetimeSeconds
    }

    /// The credential in `path`, read as its exact bytes. It must differ from the client token secret
    /// (`clientSecretFile`): otherwise anyone holding a client token key could mint cluster tokens.
    public static func load(path: String, clientSecretFile: String?) throws(DaemonStartError) -> ClusterCredential {
        do {
            let secret = try SecretFile.contents(ofFile: path)
            if let clientSecretFile, (try? SecretFile.contents(ofFile: clientSecretFile)) == secret {
                throw DaemonStartError(.configuration, "cluster: \(path) holds the same secret as the client token secret "
                    + "\(clientSecretFile); give the cluster a secret of its own")
            }
            return try ClusterCredential(secret: secret)
        } catch let error as DaemonStartError {
            throw error
        } catch let error as CryptoError {
            throw DaemonStartError(.configuration, "cluster: \(error.message)")
        } catch let error as JWTConfigurationError {
            throw DaemonStartError(.configuration, "cluster: \(path): \(error.message)")
        } catch {
            throw DaemonStartError(.configuration, "cluster: \(path): \(error)")
        }
    }

    /// A token for a link from node `nodeID`, valid from `now` (Unix seconds) for the token lifetime.
    public func token(nodeID: String, now: Int64) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.key("sub"); w.string(Self.subjectPrefix + nodeID)
        w.key("scopes"); w.beginArray(); w.string(StoreScopes.allStoresScope); w.endArray()
        w.key("iat"); w.int(now)
        w.key("exp"); w.int(now + lifetimeSeconds)
        w.endObject()
        return HS256JWT.sign(claims: w.bytes, secret: secret)
    }

    /// The authorization of a link presenting `token`, or nil when it is not a valid cluster token
    /// (it may still be a client token).
    public func authorize(token: some StringProtocol, now: Int64) -> ClusterAuthorization? {
        guard let claims = try? verifier.verify(token, now: now),
              let subject = claims.subject, subject.hasPrefix(Self.subjectPrefix),
              claims.scopes.contains(StoreScopes.allStoresScope)
        else { return nil }
        return ClusterAuthorization(nodeID: String(subject.dropFirst(Self.subjectPrefix.count)))
    }
}

/// A connection from another daemon of the cluster: every store, and its streams are served here or
/// refused, never forwarded again (so two daemons that disagree about an owner cannot bounce a stream).
public struct ClusterAuthorization: ConnectionAuthorization {
    /// The forwarding daemon's node id, from its token.
    public var nodeID: String

    /// Always true: the forwarding daemon checked its client's scopes.
    public func allows(store: WireUUID) -> Bool { true }
}
