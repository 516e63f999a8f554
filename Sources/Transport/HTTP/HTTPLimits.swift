/// Size and time limits for HTTP/1.1 heads, kept together so every HTTP limit lives in one place.
///
/// The parsers enforce the size limits; `headerTimeoutMs` is enforced by the connection that feeds
/// them, because nothing in the parsers reads a clock.
public struct HTTPLimits: Sendable, Hashable {
    /// Bytes of a whole head: request (or status) line, header lines and every line ending.
    /// 16 KiB holds a bearer JWT with many `streamkit::<uuid>` scopes several times over while keeping
    /// a stalled or hostile peer's buffer small (coordd's choice; nginx allows 8 KiB per line).
    public var maxHeaderBytes: Int
    /// Header lines in one head. Apache httpd's `LimitRequestFields` default.
    public var maxHeaderCount: Int
    /// Milliseconds a client may take to send its complete request head before the connection drops
    /// it (the slowloris defence). coordd's choice; enforced by the connection, not the parser.
    public var headerTimeoutMs: Int
    /// Bytes of the request target (`/streamz?…`). Apache httpd's `LimitRequestLine` is 8190 bytes for
    /// the whole line; coordd's own targets are a few dozen bytes.
    public var maxRequestTargetBytes: Int
    /// Bytes of the request method. The longest method coordd recognises (`OPTIONS`, `CONNECT`) has 7,
    /// so anything far longer is junk and is answered 400 without waiting for the end of the line.
    public var maxMethodBytes: Int

    /// Creates limits; every parameter defaults to coordd's production value.
    public init(
        maxHeaderBytes: Int = 16 * 1024,
        maxHeaderCount: Int = 100,
        headerTimeoutMs: Int = 10_000,
        maxRequestTargetBytes: Int = 8 * 1024,
        maxMethodBytes: Int = 16
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.headerTimeoutMs = headerTimeoutMs
        self.maxRequestTargetBytes = maxRequestTargetBytes
        self.maxMethodBytes = maxMethodBytes
    }

    /// coordd's production limits.
    public static let standard = HTTPLimits()
}
