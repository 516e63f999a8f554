import Foundation

/// Prints results as aligned tables or as JSON.
public enum Report {
    /// The systems in column order: coordd's (on its file store, then on PostgreSQL) first, since every
    /// ratio is a coordd system ÷ a system to its right.
    public static let systemOrder = ["coordd", "coordd-postgres", "etcd", "redis"]

    /// One row per result (for single-system workloads such as the in-process store ones).
    public static func table(_ results: [WorkloadResult]) -> String {
        var rows = [["workload", "system", "ops", "ops/s", "p50 ms", "p99 ms", "max ms", "notes"]]
        for r in results {
            let notes = r.metrics.map { "\($0.name)=\(format($0.value))" } + r.notes.map { "\($0.0)=\($0.1)" }
            rows.append([r.workload, r.system, "\(r.operations)", String(format: "%.0f", r.perSecond),
                         String(format: "%.3f", r.p50Ms), String(format: "%.3f", r.p99Ms), String(format: "%.3f", r.maxMs),
                         notes.joined(separator: " ")])
        }
        return align(rows)
    }

    /// One table per workload: a row per measured quantity, a column per system, then the ratio of each
    /// coordd system to each system right of it (coordd ÷ etcd, coordd ÷ coordd-postgres, coordd-postgres
    /// ÷ etcd, …; above 1 is better for throughput, below 1 for latency and CPU). Workloads appear in the
    /// order they ran.
    public static func comparison(_ results: [WorkloadResult]) -> String {
        var tables: [String] = []
        for (workload, group) in grouped(results) {
            tables.append("## \(workload)\n" + comparisonTable(group))
        }
        return tables.joined(separator: "\n\n")
    }

    /// The comparison tables as Markdown (for docs/performance.md): one `####` heading and one table per
    /// workload, notes below it.
    public static func markdown(_ results: [WorkloadResult]) -> String {
        grouped(results).map { workload, group in
            let (rows, notes) = comparisonRows(group)
            var lines = ["#### \(workload)", ""]
            lines.append("| " + rows[0].joined(separator: " | ") + " |")
            lines.append("|" + rows[0].enumerated().map { $0.offset == 0 ? "---" : "---:" }.joined(separator: "|") + "|")
            for row in rows.dropFirst() { lines.append("| " + row.joined(separator: " | ") + " |") }
            if !notes.isEmpty {
                lines.append("")
                lines += notes.map { "- \($0)" }
            }
            return lines.joined(separator: "\n")
        }.joined(separator: "\n\n")
    }

    /// The table of one workload's results (see ``comparison(_:)``).
    public static func comparisonTable(_ group: [WorkloadResult]) -> String {
        let (rows, notes) = comparisonRows(group)
        return ([align(rows)] + notes.map { "  " + $0 }).joined(separator: "\n")
    }

    /// The header and rows of one workload's comparison, and one line of notes per system that has any.
    static func comparisonRows(_ group: [WorkloadResult]) -> (rows: [[String]], notes: [String]) {
        let systems = systemOrder.filter { system in group.contains { $0.system == system } }
            + group.map(\.system).filter { !systemOrder.contains($0) }.uniqued()
        let bySystem = Dictionary(group.map { ($0.system, $0) }, uniquingKeysWith: { _, last in last })
        let pairs = systems.enumerated().flatMap { index, subject in
            subject.hasPrefix("coordd") ? systems.dropFirst(index + 1).map { (subject, $0) } : []
        }
        var header = ["metric"] + systems
        header += pairs.map { "\($0.0)÷\($0.1)" }
        var rows = [header]
        var metricNames: [String] = []
        for result in group {
            for metric in result.comparedValues where !metricNames.contains(metric.name) { metricNames.append(metric.name) }
        }
        for name in metricNames {
            var row = [name]
            for system in systems { row.append(bySystem[system]?.value(named: name).map(format) ?? "–") }
            for (subject, peer) in pairs {
                row.append(ratio(bySystem[subject]?.value(named: name), bySystem[peer]?.value(named: name)))
            }
            rows.append(row)
        }
        var notes: [String] = []
        for system in systems {
            guard let systemNotes = bySystem[system]?.notes, !systemNotes.isEmpty else { continue }
            notes.append("\(system): " + systemNotes.map { "\($0.0)=\($0.1)" }.joined(separator: ", "))
        }
        return (rows, notes)
    }

    /// `coordd ÷ peer` as `1.23×`; `–` when either is missing or the peer's value is 0.
    public static func ratio(_ coordd: Double?, _ peer: Double?) -> String {
        guard let coordd, let peer, peer != 0 else { return "–" }
        return format(coordd / peer) + "×"
    }

    /// Three significant digits at most, no exponent: 12345 → `12345`, 12.345 → `12.3`, 0.01234 →
    /// `0.0123`.
    public static func format(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        let magnitude = abs(value)
        if magnitude >= 100 || magnitude == 0 { return String(format: "%.0f", value) }
        if magnitude >= 10 { return String(format: "%.1f", value) }
        if magnitude >= 1 { return String(format: "%.2f", value) }
        let decimals = min(9, 2 - Int(floor(log10(magnitude))))
        return String(format: "%.\(decimals)f", value)
    }

    /// Every result as a JSON array (one object per workload and system).
    public static func json(_ results: [WorkloadResult]) -> String {
        let objects = results.map { r -> [String: Any] in
            var object: [String: Any] = [
                "workload": r.workload, "system": r.system, "operations": r.operations, "seconds": r.seconds,
                "per_second": r.perSecond, "p50_ms": r.p50Ms, "p99_ms": r.p99Ms, "max_ms": r.maxMs,
            ]
            if let cpu = r.serverCPUMicrosPerOp { object["server_cpu_us_per_op"] = cpu }
            var metrics: [String: Any] = [:]
            for metric in r.metrics { metrics[metric.name] = metric.value }
            if !metrics.isEmpty { object["metrics"] = metrics }
            var notes: [String: Any] = [:]
            for (key, value) in r.notes { notes[key] = value }
            if !notes.isEmpty { object["notes"] = notes }
            return object
        }
        let data = (try? JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Results read back from ``json(_:)``'s output (to print a saved run's tables again). Latency
    /// percentiles, CPU and metrics come back as written; notes come back sorted by name.
    public static func results(fromJSON data: Data) throws -> [WorkloadResult] {
        guard let objects = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw CocoaError(.coderReadCorrupt)
        }
        return objects.map { object in
            let number = { (key: String) in (object[key] as? NSNumber)?.doubleValue ?? 0 }
            var result = WorkloadResult(
                workload: object["workload"] as? String ?? "", system: object["system"] as? String ?? "",
                operations: Int(number("operations")), elapsed: .seconds(number("seconds")), latencies: Samples(),
                serverCPUMicrosPerOp: (object["server_cpu_us_per_op"] as? NSNumber)?.doubleValue)
            result.hasLatencies = number("p50_ms") != 0 || number("p99_ms") != 0 || number("max_ms") != 0
            (result.p50Ms, result.p99Ms, result.maxMs) = (number("p50_ms"), number("p99_ms"), number("max_ms"))
            let metrics = object["metrics"] as? [String: Any] ?? [:]
            result.metrics = metrics.keys.sorted().compactMap { key in (metrics[key] as? NSNumber).map { Metric(key, $0.doubleValue) } }
            let notes = object["notes"] as? [String: Any] ?? [:]
            result.notes = notes.keys.sorted().map { ($0, "\(notes[$0] ?? "")") }
            return result
        }
    }

    /// Results grouped by workload, in order of first appearance.
    static func grouped(_ results: [WorkloadResult]) -> [(String, [WorkloadResult])] {
        var order: [String] = []
        var groups: [String: [WorkloadResult]] = [:]
        for result in results {
            if groups[result.workload] == nil { order.append(result.workload) }
            groups[result.workload, default: []].append(result)
        }
        return order.map { ($0, groups[$0] ?? []) }
    }

    private static func align(_ rows: [[String]]) -> String {
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).enumerated().map { index, cell in
                let (text, width) = cell
                let pad = String(repeating: " ", count: width - text.count)
                // The label column reads left-aligned, numbers right-aligned.
                return index == 0 ? text + pad : pad + text
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

extension WorkloadResult {
    /// The compared value called `name`, if this result has it.
    func value(named name: String) -> Double? {
        comparedValues.first { $0.name == name }?.value
    }
}

extension Array where Element: Hashable {
    fileprivate func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
