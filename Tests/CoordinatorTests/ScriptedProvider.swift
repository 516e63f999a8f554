import StreamCore
import Transport

/// Serves each stream it opens with `serve`, in a task, after reading the request.
struct ScriptedProvider: StreamProvider {
    let serve: @Sendable (any BidiStream) async throws(StreamsError) -> Void

    func callStream(store: WireUUID, request: [UInt8]) async throws(StreamsError) -> any BidiStream {
        let (client, server) = InProcessStream.pair()
        try await client.send(request)
        Task {
            do throws(StreamsError) {
                _ = try await server.receive()
                try await serve(server)
            } catch {
                server.close(error: error)
            }
        }
        return client
    }
}
