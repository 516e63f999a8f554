// Appends to a durable log from several concurrent tasks until it is killed, printing one line per
// acknowledged append. The log crash test runs it, kills it with SIGKILL at a random moment, and
// checks that every acknowledged append survived and every group is whole or absent.
//
// Usage: LogCrashChild <directory> <appenders>
//
// Each append is one group of 1–3 records. A record's payload starts with its appender (u32 LE), the
// append's number n (u32 LE, 1, 2, … per appender), its index in the group and the group's size (u8
// each), followed by filler of varying length so that frames fall at varied offsets. After each append
// returns, the line `ack <appender> <n>` is written to stdout with one write(2). On start, the log is
// replayed and each appender continues after the highest n it finds, so numbers stay contiguous.

import Foundation
import StreamCore
import Synchronization

let arguments = CommandLine.arguments
guard arguments.count == 3, let appenders = Int(arguments[2]), appenders > 0 else {
    FileHandle.standardError.write(Data("usage: LogCrashChild <directory> <appenders>\n".utf8))
    exit(2)
}
let directory = arguments[1]
/// Appends per appender before the child stops on its own, so a child that is never killed ends.
let maxAppendsPerAppender = 100_000
/// Seconds before the child stops on its own, for the same reason.
let maxRunSeconds = 30.0

var next = [UInt32](repeating: 1, count: appenders)
let log: DurableLog
do {
    log = try DurableLog.open(directory: directory) { _, _, payload in
        let appender = Int(payload.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian)
        let n = payload.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
        if appender < next.count { next[appender] = max(next[appender], n + 1) }
    }
} catch {
    FileHandle.standardError.write(Data("open failed: \(error)\n".utf8))
    exit(1)
}

func group(appender: Int, n: UInt32) -> [LogRecord] {
    let count = 1 + Int(n % 3)
    return (0..<count).map { index in
        var payload: [UInt8] = []
        withUnsafeBytes(of: UInt32(appender).littleEndian) { payload.append(contentsOf: $0) }
        withUnsafeBytes(of: n.littleEndian) { payload.append(contentsOf: $0) }
        payload.append(UInt8(index))
        payload.append(UInt8(count))
        let filler = (Int(n) * 37 + index * 11 + appender * 5) % 300
        payload.append(contentsOf: (0..<filler).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ appender) })
        return LogRecord(kind: 7, payload: payload)
    }
}

let starts = next
let deadline = ContinuousClock.now + .seconds(maxRunSeconds)
let stdout = FileHandle.standardOutput
await withTaskGroup(of: Void.self) { tasks in
    for appender in 0..<appenders {
        tasks.addTask {
            var n = starts[appender]
            for _ in 0..<maxAppendsPerAppender where ContinuousClock.now < deadline {
                do {
                    _ = try await log.append(group(appender: appender, n: n))
                } catch {
                    FileHandle.standardError.write(Data("append failed: \(error)\n".utf8))
                    exit(1)
                }
                stdout.write(Data("ack \(appender) \(n)\n".utf8))
                n += 1
            }
        }
    }
}
log.close()
