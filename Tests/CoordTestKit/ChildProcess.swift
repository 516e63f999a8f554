import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to its end: its input from a string, its output to files, read once it has exited.
///
/// Not Foundation's `Process` with pipes: the tests start processes from many tasks at once, and a pipe's
/// write end made for one child is inherited by any other child spawned at that moment (a daemon that
/// lives for the whole test). Reading such a pipe to its end then waits for the wrong process, for ever.
/// Files opened here are close-on-exec, so no other child can hold them, and the exit is learnt from
/// `waitpid`, not from a descriptor.
public enum ChildProcess {
    /// How a run ended and what it wrote.
    public struct Outcome: Sendable {
        /// The exit status; 128 + the signal's number when a signal ended it (as a shell reports it).
        public var status: Int32
        /// Standard output, byte for byte.
        public var output: [UInt8]
        /// Standard error, byte for byte.
        public var errors: [UInt8]

        /// Standard output as text.
        public var out: String { String(decoding: output, as: UTF8.self) }
        /// Standard error as text.
        public var err: String { String(decoding: errors, as: UTF8.self) }
    }

    /// A program that could not be started.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `program` (a path) with `arguments`, `stdin` as its input and `environment` (this process's
    /// when nil), on a thread of its own, and returns once it has exited.
    public static func run(_ program: String, _ arguments: [String], stdin: [UInt8] = [],
                           environment: [String: String]? = nil) async throws -> Outcome {
        try await onBlockingThread { try runBlocking(program, arguments, stdin: stdin, environment: environment) }
    }

    /// ``run(_:_:stdin:environment:)`` on the calling thread, which it blocks until the program exits.
    public static func runBlocking(_ program: String, _ arguments: [String], stdin: [UInt8] = [],
                                   environment: [String: String]? = nil) throws -> Outcome {
        let base = FileManager.default.temporaryDirectory.path + "/coordd-child-\(UUID().uuidString)"
        let (inPath, outPath, errPath) = (base + ".in", base + ".out", base + ".err")
        try Data(stdin).write(to: URL(fileURLWithPath: inPath))
        defer { for path in [inPath, outPath, errPath] { unlink(path) } }

        let pid = try spawn(program, arguments, input: inPath, output: outPath, errors: errPath, environment: environment)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let ended = Ending(waitStatus: status)
        return Outcome(
            status: ended.signal.map { 128 + $0 } ?? ended.code,
            output: (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: outPath)))) ?? [],
            errors: (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: errPath)))) ?? [])
    }

    /// Starts `program` with its input from the file `input` and its standard output and error appended to
    /// the files `output` and `errors` (the same path for both is fine); returns its pid, to be reaped with
    /// `waitpid` by the caller.
    public static func spawn(_ program: String, _ arguments: [String], input: String = "/dev/null", output: String,
                             errors: String, environment: [String: String]? = nil) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        if errors == output {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        }
        // Nothing else of this process: descriptors other code opened without close-on-exec (another
        // test's pipes) would otherwise live on in the child, holding them open and counting against
        // its descriptor limit.
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let variables = environment ?? ProcessInfo.processInfo.environment
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program, &actions, nil, argv, envp)
        guard spawned == 0 else { throw Failure(description: "cannot start \(program): errno \(spawned)") }
        return pid
    }

    /// How a reaped child ended, from its `waitpid` status.
    public struct Ending: Sendable, Equatable {
        /// The exit code (0 when a signal ended it).
        public var code: Int32
        /// The signal that ended it, if one did.
        public var signal: Int32?

        /// Decodes a `waitpid` status.
        public init(waitStatus status: Int32) {
            let signal = status & 0x7F
            self.code = signal == 0 ? (status >> 8) & 0xFF : 0
            self.signal = signal == 0 ? nil : signal
        }
    }
}
