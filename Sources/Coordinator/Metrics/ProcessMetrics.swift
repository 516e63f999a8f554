import Glibc
import StreamCore
import Transport

/// The process's own figures, under the names every Prometheus client library gives them: CPU time,
/// memory, descriptors and start time, read from `/proc/self` at each scrape (a few small file reads
/// and one listing of `/proc/self/fd`, whose length is the number of open descriptors).
struct ProcessMetrics {
    let cpuSeconds: CounterFamily
    let residentMemory: GaugeFamily
    let virtualMemory: GaugeFamily
    let openDescriptors: GaugeFamily
    let maxDescriptors: GaugeFamily
    let startTime: GaugeFamily
    private let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private let pageBytes = Double(sysconf(Int32(_SC_PAGESIZE)))
    /// `btime` of `/proc/stat`: the boot time in Unix seconds, which the start time counts from.
    private let bootTimeSeconds = ProcFile.read("/proc/stat").flatMap(ProcessStat.bootTime(inProcStat:))

    init(registry: MetricsRegistry) {
        cpuSeconds = registry.counter("process_cpu_seconds_total", help: "User and system CPU time spent, in seconds.")
        residentMemory = registry.gauge("process_resident_memory_bytes", help: "Resident memory size in bytes.")
        virtualMemory = registry.gauge("process_virtual_memory_bytes", help: "Virtual memory size in bytes.")
        openDescriptors = registry.gauge("process_open_fds", help: "Open file descriptors.")
        maxDescriptors = registry.gauge("process_max_fds", help: "The soft limit on open file descriptors.")
        startTime = registry.gauge("process_start_time_seconds", help: "Start time of the process since the Unix epoch, in seconds.")
    }

    /// Reads the figures now. One that cannot be read (descriptors ran out, say) keeps its last value.
    func collect() {
        if let stat = ProcFile.read("/proc/self/stat").flatMap(ProcessStat.init(parsing:)) {
            cpuSeconds.setTotal(Double(stat.userTicks + stat.systemTicks) / ticksPerSecond)
            residentMemory.set(Double(stat.residentPages) * pageBytes)
            virtualMemory.set(Double(stat.virtualBytes))
            if let bootTimeSeconds { startTime.set(Double(bootTimeSeconds) + Double(stat.startTicks) / ticksPerSecond) }
        }
        // The listing's own descriptor is among those listed.
        if let names = try? Posix.listDirectory("/proc/self/fd") { openDescriptors.set(Double(names.count - 1)) }
        if let limit = try? OpenFileLimit.current() { maxDescriptors.set(Double(limit.soft)) }
    }
}

/// The fields of `/proc/<pid>/stat` (proc(5)) the metrics use.
struct ProcessStat: Sendable, Hashable {
    /// `utime` and `stime`: CPU time in clock ticks.
    var userTicks: UInt64
    var systemTicks: UInt64
    /// `starttime`: when the process started, in clock ticks after boot.
    var startTicks: UInt64
    /// `vsize`: virtual memory in bytes.
    var virtualBytes: UInt64
    /// `rss`: resident pages.
    var residentPages: UInt64

    /// Parses the one line of `/proc/<pid>/stat`. The command name (field 2) is in parentheses and may
    /// itself hold spaces and parentheses, so fields are counted from after its last `)`.
    init?(parsing text: String) {
        guard let close = text.lastIndex(of: ")") else { return nil }
        // Field 3 (state) is the first after the name; field n is at index n - 3. The fields read are
        // far from the last, so the line feed ending the line never sticks to one of them.
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        func field(_ number: Int) -> UInt64? {
            let index = number - 3
            return fields.indices.contains(index) ? UInt64(fields[index]) : nil
        }
        guard let utime = field(14), let stime = field(15), let start = field(22), let vsize = field(23), let rss = field(24)
        else { return nil }
        userTicks = utime
        systemTicks = stime
        startTicks = start
        virtualBytes = vsize
        residentPages = rss
    }

    /// The `btime` line of `/proc/stat`: boot time in Unix seconds.
    static func bootTime(inProcStat text: String) -> UInt64? {
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return UInt64(line.dropFirst("btime ".count))
        }
        return nil
    }
}

/// Reads small files of `/proc`, whose size `stat` reports as 0, until their end.
enum ProcFile {
    /// Bytes read at most: `/proc/stat` grows with the number of processors (about 150 bytes each).
    static let maxBytes = 1 << 20

    /// The file's text, or nil when it cannot be read.
    static func read(_ path: String) -> String? {
        guard let fd = try? Posix.open(path, O_RDONLY) else { return nil }
        defer { try? Posix.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4_096)
        while bytes.count < maxBytes {
            let count = chunk.withUnsafeMutableBytes { buffer in (try? Posix.pread(fd, buffer, offset: Int64(bytes.count))) ?? -1 }
            if count < 0 { return nil }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
