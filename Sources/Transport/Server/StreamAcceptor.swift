import StreamCore

/// What one upgraded connection may do: the stores its credentials cover (streamkit v1 §3.2).
/// Checked on every data frame, so a token for one store cannot reach another over the same connection.
public protocol ConnectionAuthorization: Sendable {
    /// True when the connection may use `store`.
    func allows(store: WireUUID) -> Bool
}

/// Every store: anonymous access on a loopback listener, or a connection nothing restricts.
public struct AllStoresAuthorization: ConnectionAuthorization {
    /// Creates the authorization.
    public init() {}

    /// Always true.
    public func allows(store: WireUUID) -> Bool { true }
}

/// The daemon's side of a ``WebSocketServer``: who may connect, where new streams go, and the
/// answers to plain HTTP requests.
///
/// `authorize` and `respond` run on the connection's event loop and must not block; `accept` runs in
/// a task of its own.
public protocol StreamAcceptor: Sendable {
    /// Decides before the upgrade; return an HTTP response (401…) to refuse.
    func authorize(_ request: HTTPRequestHead, peer: SocketAddress?) -> Result<any ConnectionAuthorization, HTTPResponse>

    /// A new logical stream whose first message is already in `stream`. Throwing refuses the stream:
    /// the peer gets an `error` frame with the error (e.g. `store unavailable`).
    func accept(store: WireUUID, stream: any BidiStream) async throws(StreamsError)

    /// ``accept(store:stream:)`` knowing what the stream's connection was authorized as (its
    /// credentials' kind decides, e.g., whether a stream may be passed on to another server). The
    /// default ignores `authorization`.
    func accept(store: WireUUID, stream: any BidiStream, authorization: any ConnectionAuthorization) async throws(StreamsError)

    /// Serves a new stream at once, on its connection's event loop, when that needs no waiting (its
    /// store is open here): `request` is its first message, taken out of it. True when the acceptor took
    /// the stream (answered it, or started its own task to serve it); false, having done nothing, to
    /// have it accepted as usual (``accept(store:stream:authorization:)``, in a task, with `request`
    /// still its first message). Must not block. The default takes nothing.
    func serveAtOnce(store: WireUUID, request: [UInt8], stream: any BidiStream,
                     authorization: any ConnectionAuthorization) -> Bool

    /// Plain HTTP requests that are not the upgrade (nil → 404).
    func respond(to request: HTTPRequestHead) -> HTTPResponse?
}

extension StreamAcceptor {
    /// Accepts as ``accept(store:stream:)`` does: most acceptors need nothing of the connection.
    public func accept(store: WireUUID, stream: any BidiStream, authorization: any ConnectionAuthorization)
        async throws(StreamsError)
    {
        try await accept(store: store, stream: stream)
    }

    /// Takes nothing: every stream is accepted in a task.
    public func serveAtOnce(store: WireUUID, request: [UInt8], stream: any BidiStream,
                            authorization: any ConnectionAuthorization) -> Bool {
        false
    }
}

/// A response is what refuses an upgrade, so it can be the failure of ``StreamAcceptor/authorize(_:peer:)``'s
/// `Result`.
extension HTTPResponse: Error {}
