import CoordBenchKit
import Testing

/// coordbench's Redis protocol codec (RESP2).
@Suite struct BenchRESPTests {
    @Test func aCommandIsAnArrayOfBulkStrings() {
        let bytes = RESP.command("SET", "lease:1", "holder", "NX", "PX", "30000")
        #expect(String(decoding: bytes, as: UTF8.self)
            == "*6\r\n$3\r\nSET\r\n$7\r\nlease:1\r\n$6\r\nholder\r\n$2\r\nNX\r\n$2\r\nPX\r\n$5\r\n30000\r\n")
    }

    @Test func binaryArgumentsKeepTheirBytesAndLength() {
        let bytes = RESP.command([[0x00, 0x0D, 0x0A, 0xFF]])
        #expect(bytes == Array("*1\r\n$4\r\n".utf8) + [0x00, 0x0D, 0x0A, 0xFF] + Array("\r\n".utf8))
    }

    @Test(arguments: [
        ("+OK\r\n", RESPValue.simpleString("OK")),
        ("-ERR wrong type\r\n", .error("ERR wrong type")),
        (":42\r\n", .integer(42)),
        (":-7\r\n", .integer(-7)),
        ("$3\r\nabc\r\n", .bulk(Array("abc".utf8))),
        ("$0\r\n\r\n", .bulk([])),
        ("$-1\r\n", .bulk(nil)),
        ("*-1\r\n", .array(nil)),
        ("*0\r\n", .array([])),
        ("*2\r\n$1\r\na\r\n:1\r\n", .array([.bulk(Array("a".utf8)), .integer(1)])),
    ])
    func everyReplyTypeDecodes(_ text: String, _ expected: RESPValue) throws {
        let bytes = Array(text.utf8)
        let decoded = try #require(try RESP.decode(bytes))
        #expect(decoded.value == expected)
        #expect(decoded.consumed == bytes.count)
    }

    @Test func aBulkStringMayHoldCRLF() throws {
        let decoded = try #require(try RESP.decode(Array("$4\r\na\r\nb\r\n".utf8)))
        #expect(decoded.value == .bulk(Array("a\r\nb".utf8)))
    }

    @Test func nestedArraysOfAStreamRangeDecode() throws {
        // XRANGE: [[id, [field, value]], …]
        let text = "*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nd\r\n$2\r\nxy\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nd\r\n$1\r\nz\r\n"
        let decoded = try #require(try RESP.decode(Array(text.utf8)))
        let entries = try #require(decoded.value.elements)
        #expect(entries.count == 2)
        #expect(entries[1].elements?[0].bytes == Array("2-0".utf8))
        #expect(entries[0].elements?[1].elements?[1].bytes == Array("xy".utf8))
    }

    @Test func everyStrictPrefixOfAReplyIsIncomplete() throws {
        let bytes = Array("*3\r\n$7\r\nmessage\r\n$4\r\nchan\r\n$5\r\n7|abc\r\n".utf8)
        for length in 0..<bytes.count {
            #expect(try RESP.decode(Array(bytes[..<length])) == nil, "prefix of \(length) bytes")
        }
        let decoded = try #require(try RESP.decode(bytes))
        #expect(decoded.consumed == bytes.count)
        #expect(decoded.value.elements?[2].bytes == Array("7|abc".utf8))
    }

    @Test func onlyTheFirstReplyIsConsumed() throws {
        let decoded = try #require(try RESP.decode(Array(":1\r\n+OK\r\n".utf8)))
        #expect(decoded.value == .integer(1))
        #expect(decoded.consumed == 4)
    }

    @Test(arguments: [
        "?what\r\n",
        ":12x\r\n",
        "$3\r\nabcd\r\n",
        "$-2\r\n",
        "*-5\r\n",
        "+OK\rX\n",
    ])
    func malformedRepliesThrow(_ text: String) {
        #expect(throws: RESPError.self) { try RESP.decode(Array(text.utf8)) }
    }

    @Test func arraysNestedTooDeepThrow() {
        let text = String(repeating: "*1\r\n", count: RESP.maxDepth + 1) + ":1\r\n"
        #expect(throws: RESPError.self) { try RESP.decode(Array(text.utf8)) }
    }
}
