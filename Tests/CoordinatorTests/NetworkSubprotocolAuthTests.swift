import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

/// A browser's bearer token in `Sec-WebSocket-Protocol` (it cannot set `Authorization` on a WebSocket):
/// checked like the header, never echoed, and the `coordd.v1` subprotocol agreed.
@Suite(.serialized) struct NetworkSubprotocolAuthTests {
    func open(_ daemon: NetworkDaemon, _ headers: [(String, String)]) async throws -> RawWebSocket.Opening {
        try await RawWebSocket.open(port: daemon.port, headers: headers)
    }

    func offer(_ values: String...) -> [(String, String)] {
        [("Sec-WebSocket-Protocol", values.joined(separator: ", "))]
    }

    @Test func aTokenInTheSubprotocolIsAcceptedAndOnlyTheMuxSubprotocolIsEchoed() async throws {
        let daemon = try await NetworkDaemon.start(verifier: JWTFixture.hmacVerifier(), allowAnonymous: false)
        let store = WireUUID.random()
        let token = hs256Token(scopes: #"["streamkit::\#(store)"]"#)
        guard case .upgraded(let raw) = try await open(daemon, offer(WebSocketSubprotocol.bearerValue(for: token), "coordd.v1")) else {
            Issue.record("the upgrade was refused")
            await daemon.stop()
            return
        }
        let head = raw.handshakeResponse.lowercased()
        #expect(head.contains("\r\nsec-websocket-protocol: coordd.v1"), "\(raw.handshakeResponse)")
        #expect(!head.contains("bearer"), "the token is never echoed: \(raw.handshakeResponse)")

        let channel = WireUUID.random()
        try await raw.send(MuxFrame(controlType: .data, storeID: store, channelID: channel, payload: GetSpaces().enveloped()))
        let answer = try #require(try await raw.nextMuxFrame())
        #expect(answer.channelID == channel && answer.carriedError == nil, "the token's store is served")

        let other = WireUUID.random()
        try await raw.send(MuxFrame(controlType: .data, storeID: other, channelID: .random(), payload: GetSpaces().enveloped()))
        let denied = try #require(try await raw.nextMuxFrame())
        #expect(denied.carriedError == .accessDenied, "the token's scopes still bound the connection")
        await daemon.stop()
    }

    @Test(arguments: [
        (WebSocketSubprotocol.bearerValue(for: hs256Token(exp: JWTFixture.now - 3_600)), "token expired"),
        (WebSocketSubprotocol.bearerValue(for: hs256Token(scopes: #"["other::*"]"#)), "streamkit"),
        (WebSocketSubprotocol.bearerPrefix + "not*base64url", "not unpadded base64url"),
        (WebSocketSubprotocol.bearerPrefix, "not unpadded base64url"),
        (WebSocketSubprotocol.bearerValue(for: "a") + ", " + WebSocketSubprotocol.bearerValue(for: "b"), "more than one bearer token"),
    ])
    func aRefusedSubprotocolTokenGets401WithTheReason(_ value: String, _ reason: String) async throws {
        let daemon = try await NetworkDaemon.start(verifier: JWTFixture.hmacVerifier(), allowAnonymous: false)
        switch try await open(daemon, offer(value, "coordd.v1")) {
        case .upgraded: Issue.record("upgraded with \(value)")
        case .refused(let status, let response):
            #expect(status == 401, "\(response)")
            #expect(response.contains(reason), "\(response)")
        }
        await daemon.stop()
    }

    @Test func aTokenInBothTheHeaderAndTheSubprotocolIsRefused() async throws {
        let daemon = try await NetworkDaemon.start(verifier: JWTFixture.hmacVerifier(), allowAnonymous: false)
        let token = hs256Token()
        let headers = [("Authorization", "Bearer " + token)] + offer(WebSocketSubprotocol.bearerValue(for: token), "coordd.v1")
        switch try await open(daemon, headers) {
        case .upgraded: Issue.record("upgraded with two tokens")
        case .refused(let status, let response):
            #expect(status == 401 && response.contains("send one"), "\(response)")
        }
        await daemon.stop()
    }

    @Test func anonymousBrowsersGetTheMuxSubprotocolAndOtherClientsNone() async throws {
        let daemon = try await NetworkDaemon.start(allowAnonymous: true)
        guard case .upgraded(let browser) = try await open(daemon, offer("coordd.v1")) else {
            Issue.record("refused")
            await daemon.stop()
            return
        }
        #expect(browser.handshakeResponse.lowercased().contains("sec-websocket-protocol: coordd.v1"))
        guard case .upgraded(let plain) = try await open(daemon, offer("something.else")) else {
            Issue.record("refused")
            await daemon.stop()
            return
        }
        #expect(!plain.handshakeResponse.lowercased().contains("sec-websocket-protocol"),
                "an unknown offer gets no subprotocol (RFC 6455 §4.2.2)")
        await daemon.stop()
    }
}
