/// Durations written for people: `30s`, `1500ms`, `2m`, `1h30m`, `0.5s` (Go's `time.ParseDuration`
/// units from milliseconds up). Shared by the daemon's flags and the command-line tool.
public enum DurationText {
    /// Why a text is not a duration.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        /// What is wrong, e.g. `missing unit in "30" (use ms, s, m or h)`.
        public var message: String

        public var description: String { message }
    }

    /// Milliseconds per unit, longest suffix first so `ms` is not read as `m` then `s`.
    private static let units: [(suffix: String, ms: Int64)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)]

    /// The duration in whole milliseconds; a fraction below one millisecond is an error, so a value
    /// is never silently rounded to something the user did not write.
    public static func milliseconds(_ text: String) throws(ParseError) -> Int64 {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw ParseError(message: "empty duration") }
        var total: Int64 = 0
        var i = 0
        while i < bytes.count {
            var whole: Int64 = 0
            var fraction: [UInt8] = []
            var digits = 0
            while i < bytes.count, isDigit(bytes[i]) {
                let (shifted, o1) = whole.multipliedReportingOverflow(by: 10)
                let (sum, o2) = shifted.addingReportingOverflow(Int64(bytes[i] - UInt8(ascii: "0")))
                guard !o1, !o2 else { throw ParseError(message: "duration \(quoted(text)) is too large") }
                whole = sum
                digits += 1
                i += 1
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                while i < bytes.count, isDigit(bytes[i]) {
                    fraction.append(bytes[i] - UInt8(ascii: "0"))
                    digits += 1
                    i += 1
                }
            }
            guard digits > 0 else { throw ParseError(message: "invalid duration \(quoted(text)) (expected e.g. 30s or 1500ms)") }
            let unitStart = i
            while i < bytes.count, !isDigit(bytes[i]), bytes[i] != UInt8(ascii: ".") { i += 1 }
            let suffix = String(decoding: bytes[unitStart..<i], as: UTF8.self)
            guard !suffix.isEmpty else { throw ParseError(message: "missing unit in duration \(quoted(text)) (use ms, s, m or h)") }
            guard let unit = units.first(where: { $0.suffix == suffix }) else {
                throw ParseError(message: "unknown unit \(quoted(suffix)) in duration \(quoted(text)) (use ms, s, m or h)")
            }
            let (scaled, o1) = whole.multipliedReportingOverflow(by: unit.ms)
            let part = try fractionMs(fraction, unitMs: unit.ms, text: text)
            let (withFraction, o2) = scaled.addingReportingOverflow(part)
            let (sum, o3) = total.addingReportingOverflow(withFraction)
            guard !o1, !o2, !o3 else { throw ParseError(message: "duration \(quoted(text)) is too large") }
            total = sum
        }
        return total
    }

    /// The shortest exact text for `ms`: `2h`, `90s`, `1500ms`.
    public static func format(milliseconds ms: Int64) -> String {
        if ms != 0 {
            for unit in units.reversed() where unit.ms > 1 && ms % unit.ms == 0 { return "\(ms / unit.ms)\(unit.suffix)" }
        }
        return "\(ms)ms"
    }

    /// `0.5` of a unit of `unitMs` in milliseconds; digits that leave a fraction of a millisecond fail.
    private static func fractionMs(_ digits: [UInt8], unitMs: Int64, text: String) throws(ParseError) -> Int64 {
        guard !digits.isEmpty else { return 0 }
        // unitMs ≤ 3.6e6, so up to 12 digits keep every product below Int64.max.
        guard digits.count <= 12 else { throw ParseError(message: "duration \(quoted(text)) is finer than a millisecond") }
        var numerator: Int64 = 0
        var denominator: Int64 = 1
        for d in digits {
            numerator = numerator * 10 + Int64(d)
            denominator *= 10
        }
        let scaled = numerator * unitMs
        guard scaled % denominator == 0 else {
            throw ParseError(message: "duration \(quoted(text)) is finer than a millisecond")
        }
        return scaled / denominator
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func quoted(_ text: String) -> String { "\"\(text)\"" }
}
