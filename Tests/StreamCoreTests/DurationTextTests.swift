import StreamCore
import Testing

struct DurationTextTests {
    @Test(arguments: [
        ("30s", Int64(30_000)), ("1500ms", 1_500), ("2m", 120_000), ("1h", 3_600_000), ("1h30m", 5_400_000),
        ("1m30s", 90_000), ("0.5s", 500), ("1.25m", 75_000), ("0s", 0), ("0ms", 0), ("250ms", 250), ("1.5ms", nil),
        ("30", nil), ("", nil), ("s", nil), ("10x", nil), ("-5s", nil), ("5 s", nil), ("1.0001s", nil),
        ("99999999999999999999h", nil), ("2562047788016h", nil), ("2562047788015h", 9_223_372_036_854_000_000), (".5s", 500), ("5.s", 5_000), ("1d", nil),
    ])
    func durationsParseToWholeMilliseconds(_ text: String, _ expected: Int64?) {
        #expect((try? DurationText.milliseconds(text)) == expected)
    }

    @Test func errorsSayWhatIsWrong() {
        #expect(throws: DurationText.ParseError.self) { try DurationText.milliseconds("30") }
        do {
            _ = try DurationText.milliseconds("30")
        } catch {
            #expect(error.message.contains("missing unit"))
        }
        do {
            _ = try DurationText.milliseconds("3d")
        } catch {
            #expect(error.message.contains("unknown unit \"d\""))
        }
    }

    @Test(arguments: [(Int64(30_000), "30s"), (1_500, "1500ms"), (120_000, "2m"), (7_200_000, "2h"), (90_000, "90s"), (0, "0ms")])
    func formattingIsTheShortestExactText(_ ms: Int64, _ text: String) throws {
        #expect(DurationText.format(milliseconds: ms) == text)
        #expect(try DurationText.milliseconds(text) == ms)
    }
}
