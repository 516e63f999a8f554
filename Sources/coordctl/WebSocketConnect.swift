import StreamCore
import Transport

/// Builds coordctl's WebSocket provider from the global options: one event loop, the token, a client
/// TLS context trusting `--ca-file` (or the system store) for `wss://`, presenting `--cert-file` when
/// given, and ``CtlLimits/connectAttempts`` attempts per call.
enum WebSocketConnect {
    static func open(_ options: GlobalOptions) throws(StreamsError)
        -> (provider: any StreamProvider, close: @Sendable () async -> Void)
    {
        let group = try eventLoop()
        do {
            let token = options.token
            var limits = WebSocketClientLimits()
            limits.maxCallAttempts = CtlLimits.connectAttempts
            let provider = try WebSocketProvider(
                url: options.server, token: { token }, tls: try tls(options), group: group, limits: limits)
            return (provider, {
                await provider.close()
                group.shutdownGracefully(graceMs: 0)
            })
        } catch let error as StreamsError {
            group.shutdownGracefully(graceMs: 0)
            throw error
        } catch {
            group.shutdownGracefully(graceMs: 0)
            throw .invalidRequest("\(options.server): \(error)")
        }
    }

    /// `GET path` on the daemon's listener, with the same TLS settings as ``open(_:)``.
    @Sendable static func probe(_ options: GlobalOptions, path: String) async throws(StreamsError) -> HTTPProbe.Response {
        let url: WebSocketURL
        do {
            url = try WebSocketURL(parsing: options.server)
        } catch {
            throw .invalidRequest("\(options.server): \(error)")
        }
        let context = try tls(options)
        let group = try eventLoop()
        defer { group.shutdownGracefully(graceMs: 0) }
        return try await HTTPProbe.get(url: url, path: path, tls: context, loop: group.next())
    }

    private static func eventLoop() throws(StreamsError) -> EventLoopGroup {
        do {
            return try EventLoopGroup(loopCount: 1)
        } catch {
            throw .internalError("cannot start an event loop: \(error)")
        }
    }

    /// The client TLS context for `wss://` (or a CA file given with `ws://`, as before); nil for plain TCP.
    private static func tls(_ options: GlobalOptions) throws(StreamsError) -> TLSContext? {
        guard options.server.hasPrefix("wss://") || options.caFile != nil else { return nil }
        do {
            return try TLSContext(.client(
                trust: options.caFile.map { .certificateAuthorityFile($0) } ?? .systemDefault,
                certificateChainFile: options.certFile, privateKeyFile: options.keyFile))
        } catch {
            throw StreamsError(.permanent, name: "tls_configuration", message: error.message)
        }
    }
}
