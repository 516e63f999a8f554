import Testing

@testable import Transport

@Suite struct HTTPResponseTests {
    @Test func textResponseCarriesTypeLengthAndBody() {
        let response = HTTPResponse.text(status: 404, "not found\n")
        #expect(
            String(decoding: response.encoded(), as: UTF8.self)
                == "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 10\r\n\r\nnot found\n")
    }

    @Test func closeConnectionAddsConnectionClose() {
        let response = HTTPResponse.text(status: 200, "ok", closeConnection: true)
        #expect(
            String(decoding: response.encoded(), as: UTF8.self)
                == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    }

    @Test func headEncodingOmitsTheBodyButKeepsItsLength() {
        var out: [UInt8] = []
        HTTPResponse.text(status: 200, "ok").encodeHead(into: &out)
        #expect(String(decoding: out, as: UTF8.self).hasSuffix("Content-Length: 2\r\n\r\n"))
    }

    @Test func switchingProtocolsHasNoContentLength() {
        let response = HTTPResponse(status: 101, headers: ["Upgrade": "websocket", "Connection": "Upgrade"])
        #expect(
            String(decoding: response.encoded(), as: UTF8.self)
                == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    }

    @Test func parseErrorResponseStatesTheReasonAndCloses() {
        let error = HTTPParseError(status: 431, reason: "too many header fields")
        let text = String(decoding: error.response.encoded(), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        #expect(text.contains("Connection: close\r\n"))
        #expect(text.hasSuffix("\r\n\r\ntoo many header fields\n"))
    }

    @Test func headerValidationRejectsLineBreaks() {
        #expect(HTTPHeaders.isValidValue("Bearer abc.def"))
        #expect(!HTTPHeaders.isValidValue("a\r\nInjected: yes"))
        #expect(!HTTPHeaders.isValidValue(" padded"))
        #expect(HTTPHeaders.isValidName("Sec-WebSocket-Key"))
        #expect(!HTTPHeaders.isValidName("Bad Name"))
        #expect(!HTTPHeaders.isValidName(""))
    }

    @Test func encodedRequestHeadParsesBackToItself() {
        let head = HTTPRequestHead(
            method: "GET", target: "/streamz?x=1", headers: ["Host": "[::1]:7400", "Origin": "http://localhost"])
        var parser = HTTPRequestParser()
        let bytes = head.encoded()
        #expect(parser.feed(bytes) == .head(head, consumed: bytes.count))
    }
}

@Suite struct HTTPResponseParserTests {
    static let switching = Array(
        ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").utf8)

    @Test func responseHeadParsesFromOneBufferAndByteByByte() {
        var whole = HTTPResponseParser()
        let event = whole.feed(Self.switching + [0x81, 0x00])
        guard case .head(let head, let consumed) = event else {
            Issue.record("expected a head, got \(event)")
            return
        }
        #expect(consumed == Self.switching.count)
        #expect(head.status == 101)
        #expect(head.reason == "Switching Protocols")
        #expect(head.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")

        var incremental = HTTPResponseParser()
        for byte in Self.switching.dropLast() { #expect(incremental.feed([byte]) == .needMoreData) }
        #expect(incremental.feed([Self.switching.last ?? 0]) == .head(head, consumed: 1))
    }

    @Test func statusLineWithoutReasonIsAccepted() {
        var parser = HTTPResponseParser()
        guard case .head(let head, _) = parser.feed(Array("HTTP/1.1 401\r\n\r\n".utf8)) else {
            Issue.record("expected a head")
            return
        }
        #expect(head.status == 401)
        #expect(head.reason == "")
    }

    @Test(arguments: [
        "HTTP/1.1 10 Short\r\n\r\n", "HTTP/1.1 abc Letters\r\n\r\n", "ICY 200 OK\r\n\r\n", "HTTP/1.1 200 O\u{1}K\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
    ])
    func malformedStatusLinesAreRejected(_ text: String) {
        var parser = HTTPResponseParser()
        guard case .failure(let error) = parser.feed(Array(text.utf8)) else {
            Issue.record("accepted \(text.debugDescription)")
            return
        }
        #expect(error.status == 400)
    }

    @Test func oversizedResponseHeadIsRejected() {
        var parser = HTTPResponseParser()
        let bytes = Array(("HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 17 * 1024)).utf8)
        #expect(parser.feed(bytes) == .failure(HTTPParseError(status: 431, reason: "response head too large")))
    }
}
