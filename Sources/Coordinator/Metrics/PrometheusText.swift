/// The pieces of the Prometheus text exposition format 0.0.4 that every metric family writes:
/// names, escaping and numbers.
enum PrometheusText {
    /// The `Content-Type` of an exposition.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// True for a metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    static func isValidMetricName(_ name: String) -> Bool {
        isName(name, allowColon: true)
    }

    /// True for a label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with the reserved `__`.
    static func isValidLabelName(_ name: String) -> Bool {
        isName(name, allowColon: false) && !name.hasPrefix("__")
    }

    private static func isName(_ name: String, allowColon: Bool) -> Bool {
        guard let first = name.utf8.first else { return false }
        func isLetter(_ b: UInt8) -> Bool {
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                || b == UInt8(ascii: "_") || (allowColon && b == UInt8(ascii: ":"))
        }
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        return isLetter(first) && name.utf8.allSatisfy { isLetter($0) || isDigit($0) }
    }

    /// A `# HELP` text: backslash and line feed escaped.
    static func escapeHelp(_ text: String) -> String {
        escape(text, quotes: false)
    }

    /// A label value: backslash, double quote and line feed escaped.
    static func escapeLabelValue(_ text: String) -> String {
        escape(text, quotes: true)
    }

    private static func escape(_ text: String, quotes: Bool) -> String {
        guard text.contains(where: { $0 == "\\" || $0 == "\n" || (quotes && $0 == "\"") }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for c in text {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"" where quotes: out += "\\\""
            default: out.append(c)
            }
        }
        return out
    }

    /// A sample value: integers without a fraction, `+Inf`, `-Inf`, `NaN`, otherwise the shortest
    /// text that reads back as the same Double.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        return "\(value)"
    }

    /// `{a="1",b="2"}` for names and values in order, or nothing when there are no labels.
    static func labels(_ names: [String], _ values: [String]) -> String {
        guard !names.isEmpty else { return "" }
        var out = "{"
        for (i, (name, value)) in zip(names, values).enumerated() {
            if i > 0 { out += "," }
            out += name + "=\"" + escapeLabelValue(value) + "\""
        }
        return out + "}"
    }

    /// The `# HELP` and `# TYPE` lines of a family.
    static func header(name: String, help: String, type: String) -> String {
        "# HELP \(name) \(escapeHelp(help))\n# TYPE \(name) \(type)\n"
    }
}
