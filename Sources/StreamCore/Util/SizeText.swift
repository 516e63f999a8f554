/// Sizes written for people: `256MiB`, `64KiB`, `1GiB`, `4096` or `4096B` (bytes). Binary units only,
/// so a value means exactly one number of bytes; units are matched in any case. The daemon's flags use
/// it as they use ``DurationText``.
public enum SizeText {
    /// Why a text is not a size.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        /// What is wrong, e.g. `unknown unit "MB" in size "256MB" (use B, KiB, MiB, GiB or TiB)`.
        public var message: String

        public var description: String { message }
    }

    /// Bytes per unit, largest first for ``format(bytes:)``.
    private static let units: [(suffix: String, bytes: Int64)] = [
        ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1),
    ]

    /// The size in bytes: whole digits, then an optional unit.
    public static func bytes(_ text: String) throws(ParseError) -> Int64 {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else {
            throw ParseError(message: "invalid size \(quoted(text)) (expected e.g. 256MiB or 4096)")
        }
        guard let value = Int64(digits) else { throw ParseError(message: "size \(quoted(text)) is too large") }
        let suffix = text.dropFirst(digits.count)
        guard !suffix.isEmpty else { return value }
        guard let unit = units.first(where: { $0.suffix.lowercased() == suffix.lowercased() }) else {
            throw ParseError(message: "unknown unit \(quoted(String(suffix))) in size \(quoted(text)) (use B, KiB, MiB, GiB or TiB)")
        }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit.bytes)
        guard !overflow else { throw ParseError(message: "size \(quoted(text)) is too large") }
        return product
    }

    /// The shortest exact text for `bytes`: `256MiB`, `1536KiB`, `1000B`.
    public static func format(bytes: Int64) -> String {
        if bytes != 0 {
            for unit in units where unit.bytes > 1 && bytes % unit.bytes == 0 { return "\(bytes / unit.bytes)\(unit.suffix)" }
        }
        return "\(bytes)B"
    }

    private static func quoted(_ text: String) -> String { "\"\(InputExcerpt.excerpt(text))\"" }
}
