import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

/// Bearer tokens and store scopes at the WebSocket upgrade and on every data frame (streamkit v1 §3.2).
@Suite struct NetworkAuthTests {
    func refusal(_ daemon: NetworkDaemon, authorization: String?) async throws -> (status: Int, response: String) {
        let headers = authorization.map { [("Authorization", $0)] } ?? []
        switch try await RawWebSocket.open(port: daemon.port, headers: headers) {
        case .upgraded: return (101, "")
        case .refused(let status, let response): return (status, response)
        }
    }

    @Test func anUpgradeWithoutATokenIsRefusedWith401() async throws {
        let daemon = try await NetworkDaemon.start(verifier: JWTFixture.hmacVerifier(), allowAnonymous: false)
        let answer = try await refusal(daemon, authorization: nil)
        #expect(answer.status == 401 && answer.response.hasSuffix("missing bearer token\n"))
        let provider = try daemon.provider()
        let error = await StreamsError.of { _ = try await CoordClient(provider: provider, store: .random()).spaces() }
        #expect(error?.name == "unauthorized" && error?.code == .permanent)
        await provider.close()
        await daemon.stop()
    }

    @Test(arguments: [
        ("Bearer " + hs256Token(exp: JWTFixture.now - 3_600), "token expired"),
        ("Bearer " + TestJWT.hs256(claims: JWTFixture.claims(), secret: Array("another-secret-of-thirty-two-byte".utf8)),
         "token signature does not verify"),
        ("Bearer " + hs256Token(scopes: #"["other::*"]"#), "streamkit"),
        ("Basic dXNlcjpwYXNz", "Bearer <token>"),
    ])
    func aRefusedTokenGets401WithTheReason(_ authorization: String, _ reason: String) async throws {
        let daemon = try await NetworkDaemon.start(verifier: JWTFixture.hmacVerifier(), allowAnonymous: false)
        let answer = try await refusal(daemon, authorization: authorization)
        #expect(answer.status == 401, "\(answer.response)")
        #expect(answer.response.contains(reason), "\(answer.response)")
        await daemon.stop()
    }

    @Test func anExpiredTokenFailsTheClientsCallWithUnauthorizedAndTheReason() async throws {
        let daemon = try await NetworkDaemon.start(verifier: JWTFixture.hmacVerifier(), allowAnonymous: false)
        let provider = try daemon.provider(token: hs256Token(exp: JWTFixture.now - 3_600))
        let error = await StreamsError.of { _ = try await CoordClient(provider: provider, store: .random()).spaces() }
        #expect(error?.name == "unauthorized" && error?.message.contains("token expired") == true, "\(String(describing: error))")
        await provider.close()
        await daemon.stop()
    }

    @Test func aTokenForOneStoreReachesItButIsDeniedAnotherStoreOnTheSameConnection() async throws {
        let daemon = try await NetworkDaemon.start(verifier: JWTFixture.hmacVerifier(), allowAnonymous: false)
        let allowed = WireUUID.random()
        let other = WireUUID.random()
        let provider = try daemon.provider(token: hs256Token(scopes: #"["streamkit::\#(allowed)"]"#))
        let mine = CoordClient(provider: provider, store: allowed)
        try await mine.produce(space: "s", segment: "g", records: makeRecords(2))
        let denied = await StreamsError.of { _ = try await CoordClient(provider: provider, store: other).spaces() }
        #expect(denied == .accessDenied && denied?.code == .permanent)
        #expect(try await mine.spaces() == ["s"], "the allowed store still works on the same connection")
        #expect(daemon.server.connectionCount == 1)
        #expect(daemon.manager.openNodes.map(\.storeID) == [allowed], "the denied store was never opened")
        await provider.close()
        await daemon.stop()
    }

    @Test(arguments: ["HS256", "RS256", "ES256"])
    func tokensOfEachAlgorithmAreAccepted(_ algorithm: String) async throws {
        let claims = JWTFixture.claims()
        let certificates = Certificates.shared
        let (verifier, token): (JWTVerifier, String) =
            switch algorithm {
            case "RS256": (try JWTFixture.rsaVerifier(), try TestJWT.rs256(claims: claims, privateKeyFile: certificates.rsaPrivateKey))
            case "ES256": (try JWTFixture.ecVerifier(), try TestJWT.es256(claims: claims, privateKeyFile: certificates.ecPrivateKey))
            default: (try JWTFixture.hmacVerifier(), TestJWT.hs256(claims: claims, secret: JWTFixture.secret))
            }
        let daemon = try await NetworkDaemon.start(verifier: verifier, allowAnonymous: false)
        let provider = try daemon.provider(token: token)
        #expect(try await CoordClient(provider: provider, store: .random()).spaces().isEmpty)
        await provider.close()
        await daemon.stop()
    }

    @Test func anonymousConnectionsAreAllowedOnlyWhenTheAcceptorSaysSo() async throws {
        let closed = try await NetworkDaemon.start(verifier: nil, allowAnonymous: false)
        #expect(try await refusal(closed, authorization: nil).status == 401)
        await closed.stop()
        let open = try await NetworkDaemon.start(verifier: nil, allowAnonymous: true)
        let provider = try open.provider()
        #expect(try await CoordClient(provider: provider, store: .random()).spaces().isEmpty)
        await provider.close()
        await open.stop()
    }
}
