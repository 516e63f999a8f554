import CoordTestKit
import Testing

@testable import Transport

/// The upgrade request of RFC 6455 §1.2, with coordd's path.
let upgradeRequestText =
    "GET /streamz HTTP/1.1\r\n"
    + "Host: 127.0.0.1:7400\r\n"
    + "Upgrade: websocket\r\n"
    + "Connection: Upgrade\r\n"
    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    + "Sec-WebSocket-Version: 13\r\n"
    + "Authorization: Bearer abc.def.ghi\r\n"
    + "\r\n"

/// Feeds `bytes` in one piece.
func parseRequest(_ bytes: [UInt8], limits: HTTPLimits = .standard) -> HTTPRequestParser.Event {
    var parser = HTTPRequestParser(limits: limits)
    return parser.feed(bytes)
}

/// Feeds `bytes` one byte at a time; returns the first event that is not `.needMoreData` and the
/// number of bytes fed until then.
func parseRequestByteByByte(_ bytes: [UInt8], limits: HTTPLimits = .standard) -> (HTTPRequestParser.Event, fed: Int) {
    var parser = HTTPRequestParser(limits: limits)
    for (index, byte) in bytes.enumerated() {
        let event = parser.feed([byte])
        if event != .needMoreData { return (event, index + 1) }
    }
    return (.needMoreData, bytes.count)
}

@Suite struct HTTPRequestParserTests {
    @Test func upgradeRequestParsesFromOneBuffer() throws {
        let bytes = Array(upgradeRequestText.utf8)
        guard case .head(let head, let consumed) = parseRequest(bytes) else {
            Issue.record("expected a head")
            return
        }
        #expect(consumed == bytes.count)
        #expect(head.method == "GET")
        #expect(head.target == "/streamz")
        #expect(head.version == .http1_1)
        #expect(head.headers.count == 6)
        #expect(head.headers["Sec-WebSocket-Key"] == "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(head.headers["Authorization"] == "Bearer abc.def.ghi")
    }

    @Test func byteByByteFeedingYieldsTheSameHeadOnTheLastByte() {
        let bytes = Array(upgradeRequestText.utf8)
        let (event, fed) = parseRequestByteByByte(bytes)
        guard case .head(let head, let consumed) = event, case .head(let whole, _) = parseRequest(bytes) else {
            Issue.record("expected a head, got \(event)")
            return
        }
        #expect(fed == bytes.count)
        #expect(consumed == 1)
        #expect(head == whole)
    }

    @Test func bytesAfterTheHeadAreLeftUnconsumed() {
        let head = Array(upgradeRequestText.utf8)
        let event = parseRequest(head + [0x81, 0x85, 1, 2, 3, 4])
        guard case .head(_, let consumed) = event else {
            Issue.record("expected a head, got \(event)")
            return
        }
        #expect(consumed == head.count)
    }

    @Test func headerLookupIgnoresCaseAndCombinesRepeatedFields() throws {
        let text = "GET / HTTP/1.1\r\nhost: a\r\nX-Thing: one\r\nx-thing: two\r\nConnection: keep-alive, UPGRADE\r\n\r\n"
        guard case .head(let head, _) = parseRequest(Array(text.utf8)) else {
            Issue.record("expected a head")
            return
        }
        #expect(head.headers["HOST"] == "a")
        #expect(head.headers["x-THING"] == "one, two")
        #expect(head.headers.values(for: "X-Thing") == ["one", "two"])
        #expect(head.headers.containsToken("upgrade", in: "connection"))
        #expect(!head.headers.containsToken("close", in: "Connection"))
        #expect(head.headers["sec-websocket-key"] == nil)
    }

    @Test func headerValuesLoseSurroundingWhitespace() {
        let text = "GET / HTTP/1.1\r\nHost:\t  a b  \t\r\nEmpty:\r\n\r\n"
        guard case .head(let head, _) = parseRequest(Array(text.utf8)) else {
            Issue.record("expected a head")
            return
        }
        #expect(head.headers["Host"] == "a b")
        #expect(head.headers["Empty"] == "")
    }

    @Test func bareLineFeedsAreTolerated() {
        let text = "GET /healthz HTTP/1.1\nHost: x\n\n"
        guard case .head(let head, let consumed) = parseRequest(Array(text.utf8)) else {
            Issue.record("expected a head")
            return
        }
        #expect(head.target == "/healthz")
        #expect(consumed == text.utf8.count)
    }

    @Test func emptyLinesBeforeTheRequestLineAreIgnored() {
        let text = "\r\n\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"
        guard case .head(let head, _) = parseRequest(Array(text.utf8)) else {
            Issue.record("expected a head")
            return
        }
        #expect(head.method == "GET")
    }

    @Test func pathAndQuerySplitTheTarget() {
        let head = HTTPRequestHead(method: "GET", target: "/metrics?format=text&x=1")
        #expect(head.path == "/metrics")
        #expect(head.query == "format=text&x=1")
        #expect(HTTPRequestHead(method: "GET", target: "/readyz").query == nil)
    }

    @Test func http10GetIsAcceptedWithoutHost() {
        guard case .head(let head, _) = parseRequest(Array("GET /healthz HTTP/1.0\r\n\r\n".utf8)) else {
            Issue.record("expected a head")
            return
        }
        #expect(head.version == .http1_0)
    }

    @Test func zeroContentLengthIsAccepted() {
        let event = parseRequest(Array("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n".utf8))
        guard case .head(let head, _) = event else {
            Issue.record("expected a head, got \(event)")
            return
        }
        #expect(head.method == "POST")
    }

    @Test func pipelinedRequestsParseOneAfterAnother() {
        let first = Array("GET /a HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        let second = Array("GET /b HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        var parser = HTTPRequestParser()
        let both = first + second
        guard case .head(let a, let consumed) = parser.feed(both) else {
            Issue.record("expected the first head")
            return
        }
        #expect(a.target == "/a")
        #expect(consumed == first.count)
        guard case .head(let b, let rest) = parser.feed(Array(both[consumed...])) else {
            Issue.record("expected the second head")
            return
        }
        #expect(b.target == "/b")
        #expect(rest == second.count)
    }

    @Test func aFailureIsRepeatedForEveryLaterFeed() {
        var parser = HTTPRequestParser()
        guard case .failure(let error) = parser.feed(Array("\u{1}".utf8)) else {
            Issue.record("expected a failure")
            return
        }
        #expect(parser.feed(Array(upgradeRequestText.utf8)) == .failure(error))
    }

    @Test func headOverTheByteLimitFailsAsSoonAsTheLimitIsCrossed() {
        let limits = HTTPLimits()
        var parser = HTTPRequestParser(limits: limits)
        let prefix = Array("GET / HTTP/1.1\r\nX-Long: ".utf8)
        #expect(parser.feed(prefix) == .needMoreData)
        let filler = [UInt8](repeating: UInt8(ascii: "a"), count: limits.maxHeaderBytes - prefix.count)
        #expect(parser.feed(filler) == .needMoreData)
        #expect(parser.feed([UInt8(ascii: "a")]) == .failure(HTTPParseError(status: 431, reason: "request header fields too large")))
    }

    @Test func tenKibibytesOfRandomJunkAreRejectedWithin32Bytes() {
        var generator = SplitMix64(seed: 0x5EED_0001)
        for _ in 0..<200 {
            let junk = (0..<(10 * 1024)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let whole = parseRequest(junk)
            guard case .failure(let error) = whole else {
                Issue.record("junk accepted: \(whole)")
                return
            }
            #expect(error.status == 400)
            let (event, fed) = parseRequestByteByByte(junk)
            #expect(event == whole)
            #expect(fed <= 32)
        }
    }

    @Test func tenKibibytesOfLettersAreRejectedAfterTheMethodLimit() {
        let junk = [UInt8](repeating: UInt8(ascii: "A"), count: 10 * 1024)
        let (event, fed) = parseRequestByteByByte(junk)
        #expect(event == .failure(HTTPParseError(status: 400, reason: "request method too long")))
        #expect(fed == HTTPLimits.standard.maxMethodBytes + 1)
        #expect(parseRequest(junk) == event)
    }

    struct FailureCase: Sendable, CustomTestStringConvertible {
        var name: String
        var request: String
        var status: Int
        var testDescription: String { name }
    }

    static let failureCases: [FailureCase] = [
        FailureCase(
            name: "head over 16 KiB",
            request: "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "a", count: 17 * 1024) + "\r\n\r\n",
            status: 431),
        FailureCase(
            name: "101 header fields",
            request: "GET / HTTP/1.1\r\n" + (0..<101).map { "X-\($0): v\r\n" }.joined() + "\r\n",
            status: 431),
        FailureCase(
            name: "target over 8 KiB", request: "GET /" + String(repeating: "a", count: 8 * 1024) + " HTTP/1.1\r\n\r\n",
            status: 414),
        FailureCase(name: "missing version", request: "GET /\r\nHost: a\r\n\r\n", status: 400),
        FailureCase(name: "missing target", request: "GET  HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        FailureCase(name: "leading space", request: " GET / HTTP/1.1\r\n\r\n", status: 400),
        FailureCase(name: "control byte in target", request: "GET /a\u{7}b HTTP/1.1\r\n\r\n", status: 400),
        FailureCase(name: "bare CR in request line", request: "GET / HTTP/1.1\rX\r\n\r\n", status: 400),
        FailureCase(name: "malformed version", request: "GET / HTTP/1.x\r\n\r\n", status: 400),
        FailureCase(name: "lowercase version", request: "GET / http/1.1\r\n\r\n", status: 400),
        FailureCase(name: "unknown method", request: "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", status: 501),
        FailureCase(name: "HTTP/2.0", request: "GET / HTTP/2.0\r\nHost: a\r\n\r\n", status: 505),
        FailureCase(name: "HTTP/0.9 version", request: "GET / HTTP/0.9\r\n\r\n", status: 505),
        FailureCase(name: "HTTP/1.0 POST", request: "POST / HTTP/1.0\r\n\r\n", status: 505),
        FailureCase(name: "missing Host", request: "GET / HTTP/1.1\r\nX: y\r\n\r\n", status: 400),
        FailureCase(name: "two Host fields", request: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400),
        FailureCase(name: "obsolete line folding", request: "GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n z\r\n\r\n", status: 400),
        FailureCase(name: "space before colon", request: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", status: 400),
        FailureCase(name: "header without colon", request: "GET / HTTP/1.1\r\nHost a\r\n\r\n", status: 400),
        FailureCase(name: "bare CR in header value", request: "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", status: 400),
        FailureCase(name: "NUL in header value", request: "GET / HTTP/1.1\r\nHost: a\u{0}b\r\n\r\n", status: 400),
        FailureCase(name: "request body", request: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", status: 501),
        FailureCase(
            name: "chunked body", request: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", status: 501),
        FailureCase(
            name: "both body framings",
            request: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400),
        FailureCase(name: "non-numeric length", request: "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", status: 400),
        FailureCase(
            name: "conflicting lengths",
            request: "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n", status: 400),
    ]

    @Test(arguments: failureCases)
    func malformedOrUnsupportedRequestsAreAnsweredWithTheirStatus(_ testCase: FailureCase) {
        let bytes = Array(testCase.request.utf8)
        let whole = parseRequest(bytes)
        guard case .failure(let error) = whole else {
            Issue.record("accepted: \(whole)")
            return
        }
        #expect(error.status == testCase.status)
        #expect(parseRequestByteByByte(bytes).0 == whole)
    }
}
