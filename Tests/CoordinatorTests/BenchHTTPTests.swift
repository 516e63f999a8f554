import CoordBenchKit
import Testing
import Transport

/// coordbench's HTTP/1.1 client pieces: the request it sends and the response decoder.
@Suite struct BenchHTTPTests {
    /// Feeds `pieces` as they would arrive on a socket, keeping unconsumed bytes as the connection
    /// does, and returns every event until the input runs out.
    private func decode(_ pieces: [[UInt8]]) throws -> [HTTPResponseDecoder.Event] {
        var decoder = HTTPResponseDecoder()
        var pending: [UInt8] = []
        var events: [HTTPResponseDecoder.Event] = []
        for piece in pieces {
            pending += piece
            // Bounded: every event but needMoreData consumes or changes state, and a response has
            // fewer events than bytes.
            for _ in 0...(pending.count + 4) {
                let (event, consumed) = try decoder.decode(pending)
                pending.removeFirst(consumed)
                if event == .needMoreData { break }
                events.append(event)
            }
        }
        return events
    }

    /// The body bytes of `events`, joined.
    private func body(_ events: [HTTPResponseDecoder.Event]) -> String {
        var bytes: [UInt8] = []
        for case .body(let piece) in events { bytes += piece }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func aPostCarriesHostTypeAndLength() {
        let request = HTTPClientRequest(path: "/v3/kv/put", host: "127.0.0.1:23790", body: Array(#"{"key":"YQ=="}"#.utf8))
        #expect(String(decoding: request.encoded(), as: UTF8.self) == """
            POST /v3/kv/put HTTP/1.1\r
            Host: 127.0.0.1:23790\r
            Content-Type: application/json\r
            Content-Length: 14\r
            \r
            {"key":"YQ=="}
            """)
    }

    @Test func aGetHasAnEmptyBody() {
        let request = HTTPClientRequest(method: "GET", path: "/readyz", host: "h:1", body: [], contentType: "text/plain")
        #expect(String(decoding: request.encoded(), as: UTF8.self).hasSuffix("Content-Length: 0\r\n\r\n"))
    }

    private let fixed = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ID\":\"7\"}\n".utf8)

    @Test func aContentLengthBodyIsReadToItsEnd() throws {
        let events = try decode([fixed])
        guard case .head(let head)? = events.first else {
            Issue.record("no head: \(events)")
            return
        }
        #expect(head.status == 200)
        #expect(body(events) == "{\"ID\":\"7\"}\n")
        #expect(events.last == .end)
    }

    @Test func bytesArrivingOneAtATimeGiveTheSameResponse() throws {
        let events = try decode(fixed.map { [$0] })
        #expect(body(events) == "{\"ID\":\"7\"}\n")
        #expect(events.filter { $0 == .end }.count == 1)
    }

    private let chunked = Array("""
        HTTP/1.1 200 OK\r
        Transfer-Encoding: chunked\r
        \r
        a;name=value\r
        {"a":1}\n\r
        \r
        8\r
        {"b":22}\r
        0\r
        Trailer: x\r
        \r

        """.utf8)

    @Test func chunkedBodiesLoseTheirFramingAndExtensions() throws {
        let events = try decode([chunked])
        #expect(body(events) == "{\"a\":1}\n\r\n{\"b\":22}")
        #expect(events.last == .end)
    }

    @Test(arguments: [1, 2, 3, 7, 13])
    func chunkedBodiesSplitAnywhereDecodeTheSame(_ pieceSize: Int) throws {
        let pieces = stride(from: 0, to: chunked.count, by: pieceSize).map { Array(chunked[$0..<min($0 + pieceSize, chunked.count)]) }
        let events = try decode(pieces)
        #expect(body(events) == "{\"a\":1}\n\r\n{\"b\":22}")
        #expect(events.filter { $0 == .end }.count == 1)
    }

    @Test func aStreamedChunkIsDeliveredBeforeTheResponseEnds() throws {
        let events = try decode([Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n".utf8)])
        #expect(body(events) == "hello")
        #expect(!events.contains(.end))
    }

    @Test func keepAliveResponsesFollowEachOther() throws {
        let second = Array("HTTP/1.1 204 No Content\r\n\r\n".utf8)
        let events = try decode([fixed + second + fixed])
        let statuses = events.compactMap { event -> Int? in
            if case .head(let head) = event { return head.status }
            return nil
        }
        #expect(statuses == [200, 204, 200])
        #expect(events.filter { $0 == .end }.count == 3)
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc",
        "NOT HTTP\r\n\r\n",
    ])
    func malformedResponsesThrow(_ text: String) {
        #expect(throws: HTTPClientError.self) { try decode([Array(text.utf8)]) }
    }
}
