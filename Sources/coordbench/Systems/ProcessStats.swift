import Foundation
import Glibc

/// What `/proc` says about a server process: CPU time used and resident memory.
enum ProcessStats {
    /// User + system CPU time of `pid` so far (`utime` + `stime` of `/proc/<pid>/stat`), in seconds;
    /// nil when the process is gone or unknown. Resolution is one clock tick (10 ms with USER_HZ 100),
    /// so it is read over whole workloads, never per operation.
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        // The command name (field 2) is in parentheses and may hold spaces: fields are counted after
        // the last ')'. There, field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident set size of `pid` in bytes (`VmRSS`), and its peak (`VmHWM`); nil when unknown.
    static func memory(_ pid: Int32) -> (rss: Int, peak: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        var rss: Int?
        var peak: Int?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") { rss = kilobytes(line) }
            if line.hasPrefix("VmHWM:") { peak = kilobytes(line) }
        }
        guard let rss, let peak else { return nil }
        return (rss * 1024, peak * 1024)
    }

    private static func kilobytes(_ line: Substring) -> Int? {
        line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
}

/// CPU time of a set of processes over one measured interval.
struct CPUMeter {
    private let pids: [Int32]
    private let before: [Double?]

    /// Starts measuring the processes `pids` (a missing one counts as unknown, not as zero).
    init(_ pids: [Int32]) {
        self.pids = pids
        before = pids.map(ProcessStats.cpuSeconds)
    }

    /// CPU seconds used since `init`, summed over the processes; nil when any was unreadable.
    func elapsed() -> Double? {
        var total = 0.0
        for (pid, start) in zip(pids, before) {
            guard let start, let now = ProcessStats.cpuSeconds(pid) else { return nil }
            total += now - start
        }
        return pids.isEmpty ? nil : total
    }

    /// Microseconds of CPU per operation since `init`.
    func microsPerOperation(_ operations: Int) -> Double? {
        guard operations > 0, let seconds = elapsed() else { return nil }
        return seconds * 1e6 / Double(operations)
    }
}
