import CoordClient
import StreamCore
import Transport

/// coordctl from its command line to its exit status, with the process's edges handed in: the
/// arguments and environment, the output, standard input, and how to reach the daemon.
enum Coordctl {
    /// Opens a provider for the global options (the WebSocket one in the executable, an in-process
    /// one in tests) and returns it with what closes it.
    typealias Connect = @Sendable (GlobalOptions) async throws(StreamsError)
        -> (provider: any StreamProvider, close: @Sendable () async -> Void)

    /// Runs the command line; returns 0 on success, 1 when the daemon answered with an error, 2 for
    /// bad usage.
    static func run(arguments: [String], environment: [String: String], output: any CtlOutput,
                    readLine: @escaping @Sendable () -> String?, connect: Connect) async -> Int32 {
        let invocation: CtlInvocation
        do {
            invocation = try CtlArguments.parse(arguments, environment: environment)
        } catch {
            output.writeError("coordctl: \(error)\n")
            return 2
        }
        switch invocation {
        case .help(let text):
            output.write(text)
            return 0
        case let .run(options, command):
            let connection: (provider: any StreamProvider, close: @Sendable () async -> Void)
            do {
                connection = try await connect(options)
            } catch {
                output.writeError("error: \(error.name): \(error.message)\n")
                return 1
            }
            let runner = CtlRunner(client: CoordClient(provider: connection.provider, store: options.store),
                                   json: options.json, output: output, readLine: readLine)
            let status = await runner.run(command)
            await connection.close()
            return status
        }
    }
}
