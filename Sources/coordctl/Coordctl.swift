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
    /// bad usage, 3 when the daemon could not be reached (``CtlExit``). `nowSeconds` is the wall clock
    /// `token mint` stamps its token with.
    static func run(arguments: [String], environment: [String: String], output: any CtlOutput,
                    readLine: @escaping @Sendable () -> String?, connect: Connect,
                    probe: Probe = WebSocketConnect.probe,
                    nowSeconds: @Sendable () -> Int64 = { SystemWallClock().nowMs() / 1_000 }) async -> Int32 {
        let invocation: CtlInvocation
        do {
            invocation = try CtlArguments.parse(arguments, environment: environment)
        } catch {
            output.writeError("coordctl: \(error)\n")
            return CtlExit.usage
        }
        switch invocation {
        case .help(let text):
            output.write(text)
            return 0
        case .version(let line):
            output.write(line + "\n")
            return 0
        case .completion(let shell):
            output.write(CtlCompletion.script(shell))
            return 0
        case .tokenMint(let request):
            return mint(request, now: nowSeconds(), output: output)
        case let .health(options, ready):
            return await health(options, path: ready ? "/readyz" : "/healthz", output: output, probe: probe)
        case let .cluster(options):
            return await cluster(options, output: output, probe: probe)
        case let .run(options, command):
            let connection: (provider: any StreamProvider, close: @Sendable () async -> Void)
            do {
                connection = try await connect(options)
            } catch {
                return CtlFailure.report(error, server: options.server, output: output)
            }
            let runner = CtlRunner(client: CoordClient(provider: connection.provider, store: options.store),
                                   json: options.json, output: output, readLine: readLine, server: options.server)
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
            return CtlFailure.report(error, server: options.server, output: output)
        }
    }

    /// Prints the cluster's live daemons from the `/readyz` detail (any status: a daemon that is not ready
    /// still says who it sees); status 1 when the daemon runs no cluster or does not answer.
    private static func cluster(_ options: GlobalOptions, output: any CtlOutput, probe: Probe) async -> Int32 {
        do {
            let response = try await probe(options, "/readyz")
            let lines = response.body.split(separator: "\n").map(String.init)
            let nodes = lines.filter { $0.hasPrefix("cluster ") }.map(CtlFormat.logfmtFields)
            guard !nodes.isEmpty else {
                output.writeError("error: \(options.server) runs no cluster (its /readyz names no daemons: only --storage postgres does)\n")
                return 1
            }
            output.write(options.json ? CtlFormat.clusterJSON(nodes) : CtlFormat.cluster(nodes, readiness: lines.first ?? ""))
            return 0
        } catch {
            return CtlFailure.report(error, server: options.server, output: output)
        }
    }

    /// Prints a development token signed with the secret file's bytes.
    private static func mint(_ request: TokenMintRequest, now: Int64, output: any CtlOutput) -> Int32 {
        let secret: [UInt8]
        do {
            secret = try SecretFile.contents(ofFile: request.secretFile)
        } catch {
            output.writeError("coordctl: --hs256-secret-file: \(error.message)\n")
            return CtlExit.usage
        }
        // The daemon refuses shorter HS256 secrets (RFC 7518 §3.2); a token it cannot check is no use.
        guard secret.count >= 32 else {
            output.writeError("coordctl: --hs256-secret-file: \(request.secretFile) has \(secret.count) bytes; the daemon needs at least 32\n")
            return CtlExit.usage
        }
        let claims = TokenMint.Claims(
            scopes: request.scopes, subject: request.subject, issuedAt: now, expiresAt: now + request.ttlMs / 1_000)
        output.write(TokenMint.hs256(claims, secret: secret) + "\n")
        return 0
    }
}
