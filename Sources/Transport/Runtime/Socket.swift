import CLinux
import Glibc
import StreamCore

/// A socket the kernel handed over from `accept4`, with the peer's address.
struct AcceptedSocket: Sendable {
    /// The new non-blocking, close-on-exec descriptor.
    var fd: Int32
    /// The peer, when the kernel reported an IPv4 or IPv6 address.
    var remoteAddress: SocketAddress?
}

/// Thin socket calls for the runtime. Each raw call goes through ``Posix`` so `EINTR` is retried,
/// `EAGAIN` becomes `.wouldBlock` where asked for, and other failures are typed ``IOError``s.
enum Socket {
    /// A non-blocking, close-on-exec TCP socket for `family`.
    static func makeTCP(family: Int32) throws(IOError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        return try Posix.call("socket") { Glibc.socket(family, type, 0) }
    }

    /// `setsockopt(2)` with an `int` value.
    static func setOption(_ fd: Int32, level: Int32, name: Int32, value: Int32, _ callName: StaticString) throws(IOError) {
        var value = value
        _ = try Posix.call(callName) {
            setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// Disables Nagle's algorithm: coordd writes whole messages and wants them sent at once.
    static func setNoDelay(_ fd: Int32) throws(IOError) {
        try setOption(fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1, "setsockopt(TCP_NODELAY)")
    }

    /// Lets the kernel delay the ACK of what was just read (`TCP_QUICKACK` off), as it does on a
    /// connection that sends as much as it receives. On one that mostly receives, Linux ACKs every small
    /// segment as it is read; the setting lasts until its delayed-ACK timer next fires, so it is set
    /// again after every read. Best effort: a socket that refuses it ACKs as before.
    static func delayAcknowledgements(_ fd: Int32) {
        try? setOption(fd, level: Int32(IPPROTO_TCP), name: TCP_QUICKACK, value: 0, "setsockopt(TCP_QUICKACK)")
    }

    /// The pending error of a socket (`SO_ERROR`), which reading also clears; 0 when there is none.
    static func pendingError(_ fd: Int32) throws(IOError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try Posix.call("getsockopt(SO_ERROR)") { getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) }
        return value
    }

    /// `bind(2)`.
    static func bind(_ fd: Int32, to address: SocketAddress) throws(IOError) {
        _ = try Posix.call("bind") { address.withSockAddr { Glibc.bind(fd, $0, $1) } }
    }

    /// `listen(2)`.
    static func listen(_ fd: Int32, backlog: Int) throws(IOError) {
        _ = try Posix.call("listen") { Glibc.listen(fd, Int32(clamping: backlog)) }
    }

    /// Starts a non-blocking `connect(2)`: true when it completed at once, false when it is in
    /// progress and completion will be signalled by write readiness (then read ``pendingError(_:)``).
    static func connect(_ fd: Int32, to address: SocketAddress) throws(IOError) -> Bool {
        do {
            _ = try Posix.call("connect") { address.withSockAddr { Glibc.connect(fd, $0, $1) } }
            return true
        } catch where error.errno == EINPROGRESS {
            return false
        }
    }

    /// `accept4(2)` with `SOCK_NONBLOCK | SOCK_CLOEXEC`.
    static func accept(_ fd: Int32) throws(IOError) -> IOResult<AcceptedSocket> {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let result = try Posix.nonBlocking("accept4") {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { coordd_accept4(fd, $0, &length, flags) }
            }
        }
        switch result {
        case .wouldBlock: return .wouldBlock
        case .processed(let newFD): return .processed(AcceptedSocket(fd: newFD, remoteAddress: SocketAddress(storage)))
        }
    }

    /// The address the socket is bound to.
    static func localAddress(_ fd: Int32) throws(IOError) -> SocketAddress? {
        try address(fd, "getsockname") { getsockname($0, $1, $2) }
    }

    /// The address of the connected peer.
    static func remoteAddress(_ fd: Int32) throws(IOError) -> SocketAddress? {
        try address(fd, "getpeername") { getpeername($0, $1, $2) }
    }

    private static func address(
        _ fd: Int32, _ name: StaticString,
        _ body: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) throws(IOError) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try Posix.call(name) {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body(fd, $0, &length) }
            }
        }
        return SocketAddress(storage)
    }

    /// `read(2)` into `buffer`; `.processed(0)` is the peer's end of stream.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> IOResult<Int> {
        try Posix.nonBlocking("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// A gathered write of `vectors`. `sendmsg` rather than `writev` because only `sendmsg` takes
    /// `MSG_NOSIGNAL`: a peer that went away yields `EPIPE` here instead of a process-wide SIGPIPE,
    /// so neither the daemon nor a program embedding the client has to ignore the signal.
    static func gatheredWrite(_ fd: Int32, _ vectors: UnsafeMutableBufferPointer<iovec>) throws(IOError) -> IOResult<Int> {
        var message = msghdr()
        message.msg_iov = vectors.baseAddress
        message.msg_iovlen = vectors.count
        return try Posix.nonBlocking("sendmsg") { sendmsg(fd, &message, Int32(MSG_NOSIGNAL)) }
    }

    /// Sends the end of stream (FIN) while the socket stays open for reading.
    static func shutdownWrite(_ fd: Int32) throws(IOError) {
        _ = try Posix.call("shutdown") { Glibc.shutdown(fd, Int32(SHUT_WR)) }
    }
}
