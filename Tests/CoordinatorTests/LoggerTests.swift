import CoordTestKit
import Coordinator
import Synchronization
import Testing

/// Collects the lines a logger writes.
final class LineCollector: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    var sink: @Sendable (String) -> Void { { line in self.lines.withLock { $0.append(line) } } }
}

struct LoggerTests {
    @Test func linesAreStructuredKeyValuePairsWithAnRFC3339Timestamp() {
        let collector = LineCollector()
        let logger = Logger(level: .info, clock: ManualWallClock(startMs: 1_767_225_600_123), sink: collector.sink)
        logger.info("listening", ["addr": "127.0.0.1:7070", "stores": 1])
        #expect(collector.all == ["ts=2026-01-01T00:00:00.123Z level=info msg=listening addr=127.0.0.1:7070 stores=1\n"])
    }

    @Test func linesBelowTheLevelAreDropped() {
        let collector = LineCollector()
        let logger = Logger(level: .warn, clock: ManualWallClock(), sink: collector.sink)
        logger.debug("d")
        logger.info("i")
        logger.warn("w")
        logger.error("e")
        #expect(collector.all.map { $0.split(separator: " ")[1] } == ["level=warn", "level=error"])
        #expect(!logger.isEnabled(.info) && logger.isEnabled(.error))
    }

    @Test(arguments: [
        ("plain", "plain"), ("", "\"\""), ("two words", "\"two words\""), ("a=b", "\"a=b\""),
        ("say \"hi\"", "\"say \\\"hi\\\"\""), ("back\\slash", "\"back\\\\slash\""), ("line\nbreak", "\"line\\nbreak\""),
        ("bell\u{07}", "\"bell\\u0007\""), ("ünïcode", "ünïcode"),
    ])
    func valuesAreQuotedOnlyWhenTheyMustBe(_ value: String, _ written: String) {
        let line = Logger.line(timestampMs: 0, level: .info, message: "m", fields: [("k", value)])
        #expect(line == "ts=1970-01-01T00:00:00.000Z level=info msg=m k=\(written)\n")
    }

    @Test func aKeyCannotBreakTheLineSyntax() {
        let line = Logger.line(timestampMs: 0, level: .error, message: "failed to start", fields: [("bad key=", "v")])
        #expect(line == "ts=1970-01-01T00:00:00.000Z level=error msg=\"failed to start\" bad_key_=v\n")
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"), (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (1_709_251_199_999, "2024-02-29T23:59:59.999Z"), (-1, "1969-12-31T23:59:59.999Z"),
        (4_102_444_800_000, "2100-01-01T00:00:00.000Z"),
    ])
    func timestampsAreUTCWithMilliseconds(_ ms: Int64, _ text: String) {
        #expect(Logger.line(timestampMs: ms, level: .debug, message: "x", fields: []).hasPrefix("ts=\(text) "))
    }

    @Test(arguments: [("debug", LogLevel.debug), ("INFO", .info), ("Warn", .warn), ("error", .error)])
    func levelsAreNamedCaseInsensitively(_ name: String, _ level: LogLevel) {
        #expect(LogLevel(name: name) == level)
    }
}
