import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

/// The cluster credential: what daemons present to each other, and what is refused.
struct ClusterCredentialTests {
    static let secret = Array(repeating: UInt8(ascii: "c"), count: 40)
    static let now: Int64 = 1_800_000_000

    @Test func aTokenMadeFromTheSecretAuthorizesItsNodeForEveryStore() throws {
        let credential = try ClusterCredential(secret: Self.secret)
        let authorization = try #require(credential.authorize(token: credential.token(nodeID: "n1", now: Self.now), now: Self.now))
        #expect(authorization.nodeID == "n1")
        #expect(authorization.allows(store: WireUUID(high: 1, low: 2)))
    }

    @Test func tokensOfAnotherSecretOrWithoutTheClusterSubjectOrExpiredAreNotClusterTokens() throws {
        let credential = try ClusterCredential(secret: Self.secret, lifetimeSeconds: 60)
        let other = try ClusterCredential(secret: Array(repeating: UInt8(ascii: "d"), count: 40))
        #expect(credential.authorize(token: other.token(nodeID: "n1", now: Self.now), now: Self.now) == nil)
        let clientToken = TestJWT.hs256(claims: JWTFixture.claims(exp: Self.now + 60), secret: Self.secret)
        #expect(credential.authorize(token: clientToken, now: Self.now) == nil, "a client subject is not a daemon's")
        let token = credential.token(nodeID: "n1", now: Self.now)
        #expect(credential.authorize(token: token, now: Self.now + 60 + AuthLimits.clockSkewLeewaySeconds) == nil)
    }

    @Test func theClusterSecretMustDifferFromTheClientTokenSecret() throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-cluster-secret")
        defer { scratch.remove() }
        try FileBytes.write(Self.secret, to: scratch.path + "/a")
        try FileBytes.write(Self.secret, to: scratch.path + "/b")
        #expect(throws: DaemonStartError.self) {
            _ = try ClusterCredential.load(path: scratch.path + "/a", clientSecretFile: scratch.path + "/b")
        }
        _ = try ClusterCredential.load(path: scratch.path + "/a", clientSecretFile: nil)
        #expect(throws: DaemonStartError.self) { _ = try ClusterCredential.load(path: scratch.path + "/missing", clientSecretFile: nil) }
    }
}
