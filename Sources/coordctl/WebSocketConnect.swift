import StreamCore
import Transport

/// Builds coordctl's WebSocket provider from the global options: one event loop, the token, and a
/// client TLS context trusting `--ca-file` (or the system store) for `wss://`.
enum WebSocketConnect {
    static func open(_ options: GlobalOptions) throws(StreamsError)
        -> (provider: any StreamProvider, close: @Sendable () async -> Void)
    {
        let group: EventLoopGroup
        do {
            group = try EventLoopGroup(loopCount: 1)
        } catch {
            throw .internalError("cannot start an event loop: \(error)")
        }
        do {
            let tls = try options.server.hasPrefix("wss://") || options.caFile != nil
                ? TLSContext(.client(trust: options.caFile.map { .certificateAuthorityFile($0) } ?? .systemDefault))
                : nil
            let token = options.token
            let provider = try WebSocketProvider(url: options.server, token: { token }, tls: tls, group: group)
            return (provider, {
                await provider.close()
                group.shutdownGracefully(graceMs: 0)
            })
        } catch let error as TLSError {
            group.shutdownGracefully(graceMs: 0)
            throw StreamsError(.permanent, name: "tls_configuration", message: error.message)
        } catch {
            group.shutdownGracefully(graceMs: 0)
            throw .invalidRequest("\(options.server): \(error)")
        }
    }
}
