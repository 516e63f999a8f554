import FuzzDriver
import Glibc
import StreamCore

// The log file scanner over arbitrary bytes after a valid header, read from a scratch file as recovery
// reads a log file.
let scratch = "/tmp/coordd-fuzz-log-scan-\(getpid())"

runFuzzer { input in
    let frames = Array(input)
    do {
        let summary = try LogInspection.scanFrames(frames, scratchPath: scratch)
        precondition(summary.committedEnd <= UInt64(16 + frames.count), "committed end past the file")
        precondition(summary.records >= 0 && summary.batches >= 0)
    } catch {
        preconditionFailure("scanning bytes in a file threw \(error)")
    }
}
