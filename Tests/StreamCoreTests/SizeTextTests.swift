import StreamCore
import Testing

struct SizeTextTests {
    @Test(arguments: [
        ("256MiB", Int64(268_435_456)), ("64KiB", 65_536), ("1GiB", 1 << 30), ("2TiB", 2 << 40), ("4096", 4_096),
        ("4096B", 4_096), ("16mib", 16 << 20), ("0", 0), ("", nil), ("MiB", nil), ("256MB", nil), ("1.5GiB", nil),
        ("-1MiB", nil), ("256 MiB", nil), ("99999999999999999999", nil), ("9000000TiB", nil),
    ])
    func sizesParseToBytes(_ text: String, _ expected: Int64?) {
        #expect((try? SizeText.bytes(text)) == expected)
    }

    @Test func errorsSayWhatIsWrong() {
        do {
            _ = try SizeText.bytes("256MB")
            Issue.record("256MB parsed")
        } catch {
            #expect(error.message.contains("unknown unit \"MB\"") && error.message.contains("MiB"))
        }
    }

    @Test(arguments: [(Int64(268_435_456), "256MiB"), (1_536 << 10, "1536KiB"), (1 << 30, "1GiB"), (1_000, "1000B"), (0, "0B")])
    func formattingIsTheShortestExactText(_ bytes: Int64, _ text: String) throws {
        #expect(SizeText.format(bytes: bytes) == text)
        #expect(try SizeText.bytes(text) == bytes)
    }
}
