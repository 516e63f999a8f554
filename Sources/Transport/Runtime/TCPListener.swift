import Glibc
import StreamCore
import Synchronization

/// A listening TCP socket on one loop of a group; accepted connections are spread over the group's
/// loops round-robin and given a handler there.
///
/// When `accept` fails for lack of descriptors or memory (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`)
/// the listener stops watching the socket and tries again after a backoff
/// (``RuntimeLimits/acceptBackoffInitialMs`` doubling to ``RuntimeLimits/acceptBackoffMaxMs``),
/// counting each pause in ``acceptBackoffCount`` and reporting it to the loop's ``RuntimeEvents``; the
/// kernel keeps queueing connections in the backlog meanwhile.
public final class TCPListener: @unchecked Sendable {
    // Why `@unchecked Sendable` is sound: `loop`, `group`, `localAddress`, `makeHandler`, `accept`
    // and `fd` are immutable; the counters are Atomics; `backoff`, `backoffTimer`, `isRegistered`
    // and `isStopped` are read and written only on `loop`'s thread.

    /// A function with `accept4`'s contract; replaceable so tests can exhaust descriptors on demand.
    typealias AcceptFunction = @Sendable (Int32) throws(IOError) -> IOResult<AcceptedSocket>

    /// The loop that watches the listening socket.
    public let loop: EventLoop
    /// The address actually bound (with the kernel-chosen port when 0 was asked for).
    public let localAddress: SocketAddress
    /// The bound port.
    public var port: Int { localAddress.port }

    private let group: EventLoopGroup
    private let makeHandler: @Sendable (TCPConnection) -> any ConnectionHandler
    private let accept: AcceptFunction
    private let fd: Int32
    private let accepted = Atomic<Int>(0)
    private let backoffs = Atomic<Int>(0)
    private var backoff: AcceptBackoff
    private var backoffTimer: TimerID?
    private var isRegistered = false
    private var isStopped = false

    /// Connections accepted so far.
    public var acceptedCount: Int { accepted.load(ordering: .relaxed) }
    /// Times accepting paused because descriptors or memory ran out.
    public var acceptBackoffCount: Int { backoffs.load(ordering: .relaxed) }

    /// Binds `host:port` (an IPv4 or IPv6 literal, or `localhost`; port 0 picks a free port) with
    /// `SO_REUSEADDR`, listens, and starts accepting on one of `group`'s loops. `makeHandler` runs
    /// on the loop that owns each new connection.
    public static func bind(
        host: String, port: Int, group: EventLoopGroup,
        makeHandler: @escaping @Sendable (TCPConnection) -> any ConnectionHandler
    ) async throws(IOError) -> TCPListener {
        try await bind(host: host, port: port, group: group, accept: Socket.accept, makeHandler: makeHandler)
    }

    static func bind(
        host: String, port: Int, group: EventLoopGroup, accept: @escaping AcceptFunction,
        makeHandler: @escaping @Sendable (TCPConnection) -> any ConnectionHandler
    ) async throws(IOError) -> TCPListener {
        let address = try SocketAddress(host: host, port: port)
        let fd = try Socket.makeTCP(family: address.addressFamily)
        let listener: TCPListener
        do {
            try Socket.setOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1, "setsockopt(SO_REUSEADDR)")
            try Socket.bind(fd, to: address)
            try Socket.listen(fd, backlog: group.limits.listenBacklog)
            let bound = try Socket.localAddress(fd) ?? address
            listener = TCPListener(fd: fd, address: bound, group: group, accept: accept, makeHandler: makeHandler)
        } catch {
            try? Posix.close(fd)
            throw error
        }
        do {
            try await listener.loop.perform { () throws(IOError) in try listener.register() }
        } catch {
            try? Posix.close(fd)
            throw error
        }
        return listener
    }

    private init(
        fd: Int32, address: SocketAddress, group: EventLoopGroup, accept: @escaping AcceptFunction,
        makeHandler: @escaping @Sendable (TCPConnection) -> any ConnectionHandler
    ) {
        self.fd = fd
        self.localAddress = address
        self.group = group
        self.loop = group.next()
        self.accept = accept
        self.makeHandler = makeHandler
        self.backoff = AcceptBackoff(initialMs: group.limits.acceptBackoffInitialMs, maxMs: group.limits.acceptBackoffMaxMs)
    }

    /// Stops accepting and closes the listening socket. Connections already accepted are not
    /// affected. Returns once the socket is closed (at once if the loop has already shut down,
    /// which closed it).
    public func stop() async {
        _ = try? await loop.perform { [self] in stopOnLoop() }
    }

    // MARK: Loop-confined

    private func register() throws(IOError) {
        try loop.register(fd, interest: .read, handler: self)
        isRegistered = true
    }

    private func stopOnLoop() {
        guard !isStopped else { return }
        isStopped = true
        if let backoffTimer {
            loop.cancelTimer(backoffTimer)
            self.backoffTimer = nil
        }
        if isRegistered {
            try? loop.deregister(fd)
            isRegistered = false
        }
        try? Posix.close(fd)
    }

    private func acceptConnections() {
        for _ in 0..<loop.limits.maxAcceptsPerWakeup {
            guard !isStopped else { return }
            do {
                switch try accept(fd) {
                case .wouldBlock:
                    return
                case .processed(let socket):
                    backoff.reset()
                    accepted.add(1, ordering: .relaxed)
                    handOff(socket)
                }
            } catch where Self.isAbortedConnection(error.errno) {
                continue
            } catch {
                pauseAccepting(after: error)
                return
            }
        }
    }

    /// Errors that concern only the connection being accepted (Linux reports the network errors of
    /// a pending connection through `accept`); the next connection may be fine.
    private static func isAbortedConnection(_ code: Int32) -> Bool {
        [ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH, EPERM]
            .contains(code)
    }

    /// Out of descriptors or memory (or an error that is not understood): stop watching the socket
    /// and try again later, instead of retrying on every turn of a level-triggered loop.
    private func pauseAccepting(after error: IOError) {
        backoffs.add(1, ordering: .relaxed)
        let delay = backoff.nextDelayMs()
        loop.events.report(.acceptFailed(error, retryInMs: delay))
        do {
            try loop.setInterest([], for: fd)
        } catch {
            stopOnLoop()
            return
        }
        backoffTimer = loop.scheduleTimer(afterMs: delay) { [weak self] in self?.resumeAccepting() }
    }

    private func resumeAccepting() {
        backoffTimer = nil
        guard !isStopped else { return }
        do {
            try loop.setInterest(.read, for: fd)
        } catch {
            stopOnLoop()
        }
    }

    private func handOff(_ socket: AcceptedSocket) {
        // Best effort: a connection without TCP_NODELAY still works, only with Nagle delays.
        try? Socket.setNoDelay(socket.fd)
        let target = group.next()
        let makeHandler = self.makeHandler
        let budget = group.outboundBudget
        if target === loop {
            Self.adopt(socket, on: target, budget: budget, makeHandler: makeHandler)
        } else if !target.execute({ Self.adopt(socket, on: target, budget: budget, makeHandler: makeHandler) }) {
            try? Posix.close(socket.fd)
        }
    }

    private static func adopt(
        _ socket: AcceptedSocket, on loop: EventLoop, budget: OutboundBudget,
        makeHandler: @Sendable (TCPConnection) -> any ConnectionHandler
    ) {
        guard loop.confined.phase != .stopping else {
            try? Posix.close(socket.fd)
            return
        }
        let connection = TCPConnection(
            fd: socket.fd, loop: loop, remoteAddress: socket.remoteAddress, budget: budget)
        connection.activate(makeHandler(connection))
    }
}

extension TCPListener: IOReadinessHandler {
    /// Called by the loop when connections are waiting; not for use by others.
    public func ioReady(_ events: IOEvents) {
        acceptConnections()
    }

    /// Called by the loop when it shuts down: the listener stops either way.
    public func loopShuttingDown(graceful: Bool) {
        stopOnLoop()
    }
}
