/// Checks a Prometheus text exposition (format 0.0.4) the way a scraper reads it, and returns what is
/// wrong: every family has `# HELP` and `# TYPE` before its samples, sample names belong to their
/// family, labels and values parse, and histogram buckets are cumulative up to `+Inf` = `_count`.
enum PrometheusTextCheck {
    struct Sample {
        var name: String
        var labels: [(String, String)]
        var value: Double
    }

    static func problems(_ text: String) -> [String] {
        var problems: [String] = []
        guard text.hasSuffix("\n") else { return ["the exposition does not end with a line feed"] }
        var types: [String: String] = [:]
        var helped: Set<String> = []
        var current: String?
        var buckets: [String: (last: Double, count: Double?)] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("# HELP ") {
                let name = line.dropFirst(7).split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
                if !helped.insert(name).inserted { problems.append("HELP twice for \(name)") }
                if !isMetricName(name) { problems.append("bad family name \(name)") }
                current = name
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                guard parts.count == 2, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[1]) else {
                    problems.append("bad TYPE line: \(line)")
                    continue
                }
                let name = String(parts[0])
                if types[name] != nil { problems.append("TYPE twice for \(name)") }
                if name != current { problems.append("TYPE of \(name) not right after its HELP") }
                types[name] = String(parts[1])
            } else if line.hasPrefix("#") || line.isEmpty {
                problems.append("unexpected line: \(line)")
            } else {
                guard let sample = parse(String(line)) else {
                    problems.append("unparsable sample: \(line)")
                    continue
                }
                guard let family = current, let type = types[family] else {
                    problems.append("sample before any TYPE: \(line)")
                    continue
                }
                let suffixes = type == "histogram" ? ["_bucket", "_sum", "_count"] : [""]
                if !suffixes.contains(where: { sample.name == family + $0 }) {
                    problems.append("sample \(sample.name) outside its family \(family)")
                }
                if type == "counter" && sample.value < 0 { problems.append("negative counter: \(line)") }
                if type == "histogram" {
                    let series = family + sample.labels.filter { $0.0 != "le" }.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
                    if sample.name == family + "_bucket" {
                        let previous = buckets[series]?.last ?? 0
                        if sample.value < previous { problems.append("bucket goes down: \(line)") }
                        buckets[series] = (sample.value, sample.labels.contains { $0 == ("le", "+Inf") } ? sample.value : nil)
                    } else if sample.name == family + "_count" {
                        if buckets[series]?.count != sample.value { problems.append("_count is not the +Inf bucket: \(line)") }
                    }
                }
            }
        }
        return problems
    }

    /// `name{a="x",b="y"} value` or `name value`.
    static func parse(_ line: String) -> Sample? {
        var rest = Substring(line)
        let name = rest.prefix { $0 != "{" && $0 != " " }
        guard isMetricName(String(name)) else { return nil }
        rest = rest.dropFirst(name.count)
        var labels: [(String, String)] = []
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = rest.prefix { $0 != "=" }
                guard isLabelName(String(label)) else { return nil }
                rest = rest.dropFirst(label.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                while let c = rest.first, c != "\"" {
                    rest = rest.dropFirst()
                    if c == "\\" {
                        guard let escaped = rest.first, ["\\", "\"", "n"].contains(escaped) else { return nil }
                        value.append(escaped == "n" ? "\n" : escaped)
                        rest = rest.dropFirst()
                    } else {
                        value.append(c)
                    }
                }
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                labels.append((String(label), value))
                if rest.first == "," { rest = rest.dropFirst() }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { return nil }
        let text = rest.dropFirst()
        let value: Double? = switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
        return value.map { Sample(name: String(name), labels: labels, value: $0) }
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.first, first.isLetter || first == "_" || first == ":" else { return false }
        return name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" || $0 == ":" }
    }

    static func isLabelName(_ name: String) -> Bool {
        guard let first = name.first, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" }
    }

    /// The value of the sample written exactly `series` (name and labels), or nil.
    static func value(_ series: String, in text: String) -> Double? {
        DaemonMetricsTests.sample(series, in: text)
    }
}
