import CoordTestKit
import Coordinator
import StreamCore
import Testing

/// The two line formats carry the same keys; JSON lines parse as one JSON object each.
struct LogFormatTests {
    /// The keys of a logfmt line, in order (values may be quoted, with escapes).
    static func logfmtKeys(_ line: String) -> [String] {
        var keys: [String] = []
        var scalars = Array(line.trimmingSuffixNewline.unicodeScalars)[...]
        while !scalars.isEmpty {
            while scalars.first == " " { scalars.removeFirst() }
            guard let equals = scalars.firstIndex(of: "=") else { break }
            keys.append(String(String.UnicodeScalarView(scalars[..<equals])))
            scalars = scalars[(equals + 1)...]
            if scalars.first == "\"" {
                scalars.removeFirst()
                while let scalar = scalars.first {
                    scalars.removeFirst()
                    if scalar == "\\" { scalars.removeFirst() } else if scalar == "\"" { break }
                }
            } else {
                while let scalar = scalars.first, scalar != " " { scalars.removeFirst() }
            }
        }
        return keys
    }

    /// The object a JSON line holds.
    static func jsonObject(_ line: String) throws -> JSONObject {
        #expect(line.hasSuffix("\n") && line.dropLast().firstIndex(of: "\n") == nil, "one line: \(line)")
        guard case .object(let object) = try JSONValue.parse(line) else {
            throw StreamsError.internalError("not a JSON object: \(line)")
        }
        return object
    }

    static func write(_ format: LogLineFormat, _ body: (Logger) -> Void) -> [String] {
        let lines = LineCollector()
        body(Logger(level: .debug, format: format, clock: ManualWallClock(startMs: 1_767_225_600_123), sink: lines.sink))
        return lines.all
    }

    static func sampleLines(_ logger: Logger) {
        logger.info("listening", ["addr": "127.0.0.1:7070", "tls": "off"])
        logger.warn("disk full", ["store": WireUUID.defaultStore, "errno": "ENOSPC", "error": "pwrite failed: \"no\" space\n"])
        logger.info("lease granted", ["key": "partition 1", "holder": "a=b", "fence": UInt64(42), "ttl_ms": Int64(30_000),
                                      "bound": true])
        logger.log(.error, "cannot start", fields: [("error", "bad"), ("weird key=", "v")])
    }

    @Test func jsonLinesParseAndCarryTheKeysOfTheLogfmtLines() throws {
        let logfmt = Self.write(.logfmt, Self.sampleLines)
        let json = Self.write(.json, Self.sampleLines)
        #expect(logfmt.count == 4 && json.count == 4)
        for (text, object) in zip(logfmt, try json.map(Self.jsonObject)) {
            let keys = Self.logfmtKeys(text)
            #expect(keys.prefix(3) == ["ts", "level", "msg"])
            #expect(Set(keys) == Set(object.keys), "\(text)")
            #expect(keys.count == object.count)
        }
    }

    @Test func jsonLinesKeepValuesAndTheirKinds() throws {
        let json = try Self.write(.json, Self.sampleLines).map(Self.jsonObject)
        #expect(json[0]["ts"] == .string("2026-01-01T00:00:00.123Z"))
        #expect(json[0]["level"] == .string("info") && json[0]["msg"] == .string("listening"))
        #expect(json[1]["error"] == .string("pwrite failed: \"no\" space\n"), "escapes round-trip")
        #expect(json[1]["store"] == .string(WireUUID.defaultStore.description))
        #expect(json[2]["fence"] == .int(42) && json[2]["ttl_ms"] == .int(30_000), "whole numbers are numbers")
        #expect(json[2]["bound"] == .bool(true) && json[2]["key"] == .string("partition 1"))
        #expect(json[3]["weird_key_"] == .string("v"), "keys are sanitized the same way in both formats")
    }

    @Test func theSummaryOfLeftOutLinesHasTheSameKeysInBothFormats() throws {
        func summarize(_ format: LogLineFormat) -> [String] {
            let clock = ManualWallClock()
            let lines = LineCollector()
            var limits = LogRateLimits()
            limits.linesPerInterval = 1
            let logger = Logger(format: format, clock: clock, rateLimits: limits, sink: lines.sink)
            for _ in 0..<3 { logger.warn("out of descriptors", ["during": "accept"]) }
            clock.advance(byMs: limits.intervalMs)
            logger.flushSuppressed()
            return lines.all
        }
        let logfmt = summarize(.logfmt)
        let json = try summarize(.json).map(Self.jsonObject)
        #expect(logfmt.count == 2 && json.count == 2)
        #expect(Set(Self.logfmtKeys(logfmt[1])) == Set(json[1].keys))
        #expect(json[1]["msg"] == .string(Logger.suppressedMessage) && json[1]["suppressed"] == .int(2)
                    && json[1]["similar"] == .string("out of descriptors") && json[1]["level"] == .string("warn"))
    }

    @Test(arguments: [("logfmt", LogLineFormat.logfmt), ("JSON", .json), ("json", .json)])
    func theFormatIsAFlagAndAVariable(_ value: String, _ format: LogLineFormat) throws {
        guard case .run(let flag) = try DaemonConfiguration.parse(arguments: ["--log-format", value], environment: [:]),
              case .run(let variable) = try DaemonConfiguration.parse(arguments: [], environment: ["COORDD_LOG_FORMAT": value])
        else { throw StreamsError.internalError("not a run") }
        #expect(flag.logFormat == format && variable.logFormat == format)
        #expect(flag.logFields.contains { $0 == ("log_format", format.rawValue) })
    }

    @Test func anUnknownFormatIsRefusedNamingTheFlag() {
        #expect {
            _ = try DaemonConfiguration.parse(arguments: ["--log-format", "xml"], environment: [:])
        } throws: { error in
            (error as? DaemonConfigurationError).map { $0.setting == "--log-format" && $0.message.contains("logfmt or json") }
                ?? false
        }
    }
}

extension String {
    fileprivate var trimmingSuffixNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
