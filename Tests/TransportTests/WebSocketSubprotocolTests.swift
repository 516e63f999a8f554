import StreamCore
import Testing

@testable import Transport

/// Subprotocol negotiation and the bearer token a browser carries in `Sec-WebSocket-Protocol`.
@Suite struct WebSocketSubprotocolTests {
    @Test(arguments: [
        ("coordd.v1", "coordd.v1"),
        ("base64url.bearer.coordd.YQ, coordd.v1", "coordd.v1"),
        ("chat,  coordd.v1 ,", "coordd.v1"),
        ("chat", nil),
        ("base64url.bearer.coordd.YQ", nil),
        ("COORDD.V1", nil),
    ] as [(String, String?)])
    func theServerEchoesTheMuxSubprotocolOnlyWhenOffered(_ offer: String, _ echoed: String?) throws {
        let response = try WebSocketHandshake.serverResponse(for: upgradeRequest(replacing: ["Sec-WebSocket-Protocol": offer])).get()
        #expect(response.status == 101)
        #expect(response.headers["Sec-WebSocket-Protocol"] == echoed)
    }

    @Test func offersSpreadOverSeveralFieldsAreReadInOrder() {
        var headers: HTTPHeaders = ["Sec-WebSocket-Protocol": "a, b"]
        headers.add(name: "sec-websocket-protocol", value: "c ,,  d")
        #expect(WebSocketSubprotocol.offered(in: headers) == ["a", "b", "c", "d"])
    }

    @Test(arguments: ["eyJhbGciOiJIUzI1NiJ9.e30.sig", "opaque token/with+odd=chars", "ünïcode"])
    func aTokenRoundTripsThroughItsSubprotocolValue(_ token: String) {
        let value = WebSocketSubprotocol.bearerValue(for: token)
        #expect(value.hasPrefix("base64url.bearer.coordd."))
        #expect(HTTPHeaders.isValidName(value), "a subprotocol value must be an HTTP token for a browser to send it")
        #expect(WebSocketSubprotocol.bearerToken(in: ["coordd.v1", value]) == .token(token))
    }

    @Test func offersWithoutATokenCarryNone() {
        #expect(WebSocketSubprotocol.bearerToken(in: []) == .none)
        #expect(WebSocketSubprotocol.bearerToken(in: ["coordd.v1", "base64url.bearer.other.YQ"]) == .none)
    }

    @Test(arguments: [
        ["base64url.bearer.coordd."],
        ["base64url.bearer.coordd.YQ=="],
        ["base64url.bearer.coordd.a+b/"],
        ["base64url.bearer.coordd._w"],
        ["base64url.bearer.coordd.YQ", "base64url.bearer.coordd.Yg"],
    ])
    func malformedOrRepeatedTokensAreInvalid(_ offered: [String]) {
        guard case .invalid = WebSocketSubprotocol.bearerToken(in: offered) else {
            Issue.record("\(offered) was accepted")
            return
        }
    }
}
