import Coordinator
import StreamCore
import Dispatch
import Foundation
import Glibc

// coordd: the daemon. Reads the command line and environment, starts the services, runs until
// SIGTERM or SIGINT, drains within the grace period and exits 0. A second signal exits at once.
// Exit status: 0 clean, 1 failed to start or to drain, 2 bad configuration.
// `coordd check` reads (and repairs) a data directory's logs instead; see `coordd check --help`.

let invocation: DaemonInvocation
do {
    invocation = try DaemonConfiguration.parse(
        arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
} catch {
    Logger.standardError("coordd: \(error)\nRun 'coordd --help' for the options.\n")
    exit(2)
}
let configuration: DaemonConfiguration
switch invocation {
case .help(let text):
    print(text, terminator: "")
    exit(0)
case .version(let line):
    print(line)
    exit(0)
case .run(let parsed):
    configuration = parsed
case .check(let options):
    exit(StoreCheck.run(options) { print($0) }.rawValue)
}

let logger = Logger(level: configuration.logLevel, format: configuration.logFormat, rateLimits: LogRateLimits())
logger.log(.info, "starting coordd", fields: [("version", BuildInfo.version)] + configuration.logFields)

// A peer that goes away mid-write must be an EPIPE on that connection, not the end of the process.
signal(SIGPIPE, SIG_IGN)
do {
    logger.debug("open files limit", ["soft": try DaemonResources.raiseOpenFileLimit()])
} catch {
    logger.warn("open files limit unchanged", ["error": error.message])
}
let watcher = SignalWatcher([SIGTERM, SIGINT])

let daemon: Daemon
do {
    daemon = try await Daemon.start(configuration, logger: logger)
} catch {
    logger.error("cannot start", ["error": error.message])
    exit(error.exitStatus)
}

let first = await watcher.first()
logger.info("signal received, draining", ["signal": SignalWatcher.name(first)])
watcher.onLater { second in
    logger.warn("second signal, exiting at once", ["signal": SignalWatcher.name(second)])
    exit(1)
}
// The drain bounds each step; this guards against one that does not return at all.
DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(configuration.shutdownGraceMs) + 2_000)) {
    logger.error("shutdown did not finish within the grace period", ["grace_ms": configuration.shutdownGraceMs])
    exit(1)
}
await daemon.shutdown()
exit(0)
