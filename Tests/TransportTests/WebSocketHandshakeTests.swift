import StreamCore
import Testing

@testable import Transport

/// A parsed upgrade request with `fields` replacing or removing (nil) those of the valid one.
func upgradeRequest(
    method: String = "GET", version: HTTPVersion = .http1_1, replacing fields: [String: String?] = [:]
) -> HTTPRequestHead {
    var headers: HTTPHeaders = [
        "Host": "127.0.0.1:7400",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    ]
    for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
        headers.remove(name: name)
        if let value { headers.add(name: name, value: value) }
    }
    return HTTPRequestHead(method: method, target: "/streamz", version: version, headers: headers)
}

@Suite struct WebSocketHandshakeTests {
    @Test func acceptValueMatchesTheRFC6455Example() {
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func validUpgradeWithoutOriginIsAnsweredWith101() throws {
        let response = try WebSocketHandshake.serverResponse(for: upgradeRequest()).get()
        #expect(
            String(decoding: response.encoded(), as: UTF8.self)
                == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    }

    @Test func upgradeTokensMatchIgnoringCaseAndAmongOtherOptions() throws {
        let request = upgradeRequest(replacing: ["Upgrade": "WebSocket", "Connection": "keep-alive, UPGRADE"])
        let response = try WebSocketHandshake.serverResponse(for: request).get()
        #expect(response.status == 101)
    }

    @Test func upgradeRequestParsedFromTheWireIsAccepted() throws {
        var parser = HTTPRequestParser()
        guard case .head(let head, _) = parser.feed(Array(upgradeRequestText.utf8)) else {
            Issue.record("expected a head")
            return
        }
        let response = try WebSocketHandshake.serverResponse(for: head).get()
        #expect(response.headers["Sec-WebSocket-Accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    struct RejectionCase: Sendable, CustomTestStringConvertible {
        var name: String
        var request: HTTPRequestHead
        var status: Int
        var header: (name: String, value: String)?
        var testDescription: String { name }
    }

    static let rejectionCases: [RejectionCase] = [
        RejectionCase(
            name: "missing key", request: upgradeRequest(replacing: ["Sec-WebSocket-Key": nil]), status: 400),
        RejectionCase(
            name: "key is not base64", request: upgradeRequest(replacing: ["Sec-WebSocket-Key": "not*base64*at*all!!"]),
            status: 400),
        RejectionCase(
            name: "key of 15 bytes",
            request: upgradeRequest(replacing: ["Sec-WebSocket-Key": Base64.encode([UInt8](repeating: 7, count: 15))]),
            status: 400),
        RejectionCase(
            name: "two keys",
            request: {
                var request = upgradeRequest()
                request.headers.add(name: "Sec-WebSocket-Key", value: "dGhlIHNhbXBsZSBub25jZQ==")
                return request
            }(), status: 400),
        RejectionCase(
            name: "version 8", request: upgradeRequest(replacing: ["Sec-WebSocket-Version": "8"]), status: 426,
            header: ("Sec-WebSocket-Version", "13")),
        RejectionCase(
            name: "missing version", request: upgradeRequest(replacing: ["Sec-WebSocket-Version": nil]), status: 426,
            header: ("Sec-WebSocket-Version", "13")),
        RejectionCase(
            name: "missing Upgrade", request: upgradeRequest(replacing: ["Upgrade": nil]), status: 426,
            header: ("Upgrade", "websocket")),
        RejectionCase(
            name: "Upgrade to another protocol", request: upgradeRequest(replacing: ["Upgrade": "h2c"]), status: 426,
            header: ("Upgrade", "websocket")),
        RejectionCase(
            name: "Connection without upgrade", request: upgradeRequest(replacing: ["Connection": "keep-alive"]),
            status: 400),
        RejectionCase(name: "POST", request: upgradeRequest(method: "POST"), status: 405, header: ("Allow", "GET")),
        RejectionCase(name: "HTTP/1.0", request: upgradeRequest(version: .http1_0), status: 400),
    ]

    @Test(arguments: rejectionCases)
    func invalidUpgradeRequestsAreRefused(_ testCase: RejectionCase) {
        guard case .failure(let rejection) = WebSocketHandshake.serverResponse(for: testCase.request) else {
            Issue.record("accepted")
            return
        }
        #expect(rejection.status == testCase.status)
        #expect(rejection.response.status == testCase.status)
        #expect(rejection.response.closeConnection)
        if let header = testCase.header {
            #expect(rejection.response.headers[header.name] == header.value)
        }
    }

    @Test func clientRequestAndServerResponseCompleteTheHandshake() throws {
        var client = WebSocketClientHandshake(
            host: "127.0.0.1:7400", path: "/streamz",
            headers: ["Authorization": "Bearer abc.def.ghi", "Origin": "http://localhost"])
        #expect(Base64.decode(client.key)?.count == 16)

        var server = HTTPRequestParser()
        let request = client.requestBytes
        guard case .head(let head, let consumed) = server.feed(request) else {
            Issue.record("server could not parse the client's request")
            return
        }
        #expect(consumed == request.count)
        #expect(head.target == "/streamz")
        #expect(head.headers["Authorization"] == "Bearer abc.def.ghi")
        #expect(head.headers["Origin"] == "http://localhost")
        #expect(head.headers["Host"] == "127.0.0.1:7400")

        let response = try WebSocketHandshake.serverResponse(for: head).get().encoded()
        let firstFrame: [UInt8] = [0x81, 0x02, 0x7B, 0x7D]
        guard case .upgraded(let answer, let used) = client.feed(response + firstFrame) else {
            Issue.record("client refused the server's response")
            return
        }
        #expect(answer.status == 101)
        #expect(used == response.count)
    }

    @Test func clientAcceptsTheResponseFedByteByByte() throws {
        var client = WebSocketClientHandshake(host: "a", path: "/streamz")
        var server = HTTPRequestParser()
        guard case .head(let head, _) = server.feed(client.requestBytes) else {
            Issue.record("server could not parse the client's request")
            return
        }
        let response = try WebSocketHandshake.serverResponse(for: head).get().encoded()
        for byte in response.dropLast() { #expect(client.feed([byte]) == .needMoreData) }
        guard case .upgraded = client.feed([response.last ?? 0]) else {
            Issue.record("client refused the server's response")
            return
        }
    }

    @Test func everyHandshakeUsesAFreshKey() {
        let keys = Set((0..<8).map { _ in WebSocketClientHandshake(host: "a", path: "/").key })
        #expect(keys.count == 8)
    }

    @Test func clientWithAFixedKeySendsTheRFCRequest() {
        let nonce = Array("the sample nonce".utf8)
        let client = WebSocketClientHandshake(
            host: "server.example.com", path: "/chat", headers: ["Origin": "http://example.com"], keyBytes: nonce,
            limits: .standard)
        #expect(client.key == "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(client.expectedAccept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(
            String(decoding: client.requestBytes, as: UTF8.self)
                == "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + "Origin: http://example.com\r\n\r\n")
    }

    /// Feeds `response` to a client whose key is the RFC example's.
    func clientEvent(_ response: String) -> WebSocketClientHandshake.Event {
        var client = WebSocketClientHandshake(
            host: "a", path: "/streamz", headers: [:], keyBytes: Array("the sample nonce".utf8), limits: .standard)
        return client.feed(Array(response.utf8))
    }

    @Test func clientRejectsAWrongAcceptKey() {
        let event = clientEvent(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n")
        #expect(event == .failure(.wrongAcceptKey))
    }

    @Test func clientReportsARefusalStatusAsAnAuthenticationFailure() {
        let event = clientEvent("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
        #expect(event == .failure(.unexpectedStatus(401, reason: "Unauthorized")))
        guard case .failure(let error) = event else { return }
        #expect(error.isAuthenticationFailure)
        #expect(!WebSocketClientHandshakeError.unexpectedStatus(503, reason: "").isAuthenticationFailure)
    }

    @Test(arguments: [
        (
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
            WebSocketClientHandshakeError.missingUpgrade
        ),
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
            .missingConnectionUpgrade
        ),
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
            .unexpectedExtension("permessage-deflate")
        ),
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
            .unexpectedSubprotocol("chat")
        ),
        ("HTTP/1.1 101 Switching\u{1}\r\n\r\n", .malformedResponse(HTTPParseError(status: 400, reason: "malformed status line"))),
    ])
    func clientRejectsAnInvalidUpgradeResponse(_ response: String, _ expected: WebSocketClientHandshakeError) {
        #expect(clientEvent(response) == .failure(expected))
    }
}
