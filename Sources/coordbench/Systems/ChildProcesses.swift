import Foundation
import Glibc
import Synchronization

/// The processes coordbench started, so they are stopped by PID however coordbench ends: normally,
/// by an error, or by SIGINT / SIGTERM.
enum ChildProcesses {
    private static let pids = Mutex<Set<Int32>>([])
    private static let signalSources = Mutex<[any DispatchSourceSignal]>([])

    /// Remembers `pid` until ``forget(_:)``.
    static func track(_ pid: Int32) { pids.withLock { _ = $0.insert(pid) } }

    /// `pid` was stopped and reaped.
    static func forget(_ pid: Int32) { pids.withLock { _ = $0.remove(pid) } }

    /// Sends SIGKILL to every tracked process (the last resort on a signal; normal paths stop them
    /// with SIGTERM and wait).
    static func killAll() {
        for pid in pids.withLock({ $0 }) { kill(pid, SIGKILL) }
    }

    /// On SIGINT or SIGTERM: kill the tracked children, then exit with 128 + the signal.
    static func installSignalHandlers() {
        signalSources.withLock { sources in
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler {
                    FileHandle.standardError.write(Data("coordbench: signal \(signalNumber), stopping child processes\n".utf8))
                    killAll()
                    exit(128 + signalNumber)
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}
