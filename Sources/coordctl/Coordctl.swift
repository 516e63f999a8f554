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
    /// Sends one plain HTTP `GET` of a path to the daemon the global options name.
    typealias Probe = @Sendable (GlobalOptions, String) async throws(StreamsError) -> HTTPProbe.Response

    /// Runs the command line; returns 0 on success, 1 when the daemon answered with an error, 2 for
    /// bad usage.
    static func run(arguments: [String], environment: [String: String], output: any CtlOutput,
                    readLine: @escaping @Sendable () -> String?, connect: Connect,
                    probe: Probe = WebSocketConnect.probe) async -> Int32 {
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
        case .version(let line):
            output.write(line + "\n")
            return 0
        case let .health(options, ready):
            return await health(options, path: ready ? "/readyz" : "/healthz", output: output, probe: probe)
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

    /// Prints the endpoint's answer: on standard output with status 0 for a 200, on standard error
    /// with status 1 for anything else or no answer.
    private static func health(_ options: GlobalOptions, path: String, output: any CtlOutput, probe: Probe) async -> Int32 {
        do {
            let response = try await probe(options, path)
            let body = response.body.hasSuffix("\n") ? response.body : response.body + "\n"
            guard response.status == 200 else {
                output.writeError("error: \(path) answered \(response.status): \(body)")
                return 1
            }
            output.write(body)
            return 0
        } catch {
            output.writeError("error: \(error.name): \(error.message)\n")
            return 1
        }
    }
}
