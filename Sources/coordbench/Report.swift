import Foundation

/// Prints results as an aligned table or as JSON.
enum Report {
    static func table(_ results: [Result]) -> String {
        var rows = [["workload", "system", "ops", "ops/s", "p50 ms", "p99 ms", "max ms", "notes"]]
        for r in results {
            rows.append([r.workload, r.system, "\(r.operations)", String(format: "%.0f", r.perSecond),
                         String(format: "%.3f", r.p50Ms), String(format: "%.3f", r.p99Ms), String(format: "%.3f", r.maxMs),
                         r.extra.map { "\($0.0)=\($0.1)" }.joined(separator: " ")])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func json(_ results: [Result]) -> String {
        let objects = results.map { r -> [String: Any] in
            var object: [String: Any] = [
                "workload": r.workload, "system": r.system, "operations": r.operations, "seconds": r.seconds,
                "per_second": r.perSecond, "p50_ms": r.p50Ms, "p99_ms": r.p99Ms, "max_ms": r.maxMs,
            ]
            for (key, value) in r.extra { object[key] = value }
            return object
        }
        let data = (try? JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
