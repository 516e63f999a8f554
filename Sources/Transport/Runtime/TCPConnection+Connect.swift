import StreamCore

extension TCPConnection {
    /// Opens a client connection to `host:port` on `loop` (IP literals and `localhost`).
    ///
    /// The connect is non-blocking: its completion is the socket becoming writable, and `SO_ERROR`
    /// says whether it succeeded. `makeHandler` runs on the loop once connected, before any byte is
    /// read. Fails with the connect error (e.g. `ECONNREFUSED`), `ETIMEDOUT` after
    /// ``RuntimeLimits/connectTimeoutMs``, or the loop-shut-down error.
    public static func connect(
        host: String, port: Int, on loop: EventLoop,
        makeHandler: @escaping @Sendable (TCPConnection) -> any ConnectionHandler
    ) async throws(IOError) -> TCPConnection {
        let address = try SocketAddress(host: host, port: port)
        let result: Result<TCPConnection, IOError> = await withCheckedContinuation { continuation in
            let accepted = loop.execute {
                PendingConnect.start(to: address, on: loop, makeHandler: makeHandler) {
                    continuation.resume(returning: $0)
                }
            }
            if !accepted { continuation.resume(returning: .failure(.loopShutDown)) }
        }
        return try result.get()
    }
}

/// A client socket between `connect` and its completion. Loop-confined; held by its registration.
final class PendingConnect: IOReadinessHandler {
    private let fd: Int32
    private let address: SocketAddress
    private let loop: EventLoop
    private let makeHandler: @Sendable (TCPConnection) -> any ConnectionHandler
    private let complete: (Result<TCPConnection, IOError>) -> Void
    private var registered = false
    private var finished = false
    private var timer: TimerID?

    private init(
        fd: Int32, address: SocketAddress, loop: EventLoop,
        makeHandler: @escaping @Sendable (TCPConnection) -> any ConnectionHandler,
        complete: @escaping (Result<TCPConnection, IOError>) -> Void
    ) {
        self.fd = fd
        self.address = address
        self.loop = loop
        self.makeHandler = makeHandler
        self.complete = complete
    }

    /// Creates the socket and starts connecting; `complete` is called exactly once.
    static func start(
        to address: SocketAddress, on loop: EventLoop,
        makeHandler: @escaping @Sendable (TCPConnection) -> any ConnectionHandler,
        complete: @escaping (Result<TCPConnection, IOError>) -> Void
    ) {
        let fd: Int32
        do {
            fd = try Socket.makeTCP(family: address.addressFamily)
        } catch {
            complete(.failure(error))
            return
        }
        let pending = PendingConnect(fd: fd, address: address, loop: loop, makeHandler: makeHandler, complete: complete)
        do {
            try Socket.setNoDelay(fd)
            if try Socket.connect(fd, to: address) {
                pending.succeed()
                return
            }
            try loop.register(fd, interest: .write, handler: pending)
            pending.registered = true
        } catch {
            pending.fail(error)
            return
        }
        let timeoutMs = loop.limits.connectTimeoutMs
        pending.timer = loop.scheduleTimer(afterMs: timeoutMs) { [weak pending] in
            pending?.fail(.connectTimedOut(afterMs: timeoutMs))
        }
    }

    func ioReady(_ events: IOEvents) {
        let code: Int32
        do {
            code = try Socket.pendingError(fd)
        } catch {
            fail(error)
            return
        }
        if code == 0 { succeed() } else { fail(IOError(errno: code, call: "connect")) }
    }

    func loopShuttingDown(graceful: Bool) {
        fail(.loopShutDown)
    }

    private func stopWaiting() {
        finished = true
        if let timer {
            loop.cancelTimer(timer)
            self.timer = nil
        }
        if registered {
            try? loop.deregister(fd)
            registered = false
        }
    }

    private func succeed() {
        guard !finished else { return }
        stopWaiting()
        let connection = TCPConnection(fd: fd, loop: loop, remoteAddress: address, delaysAcknowledgements: true)
        if let error = connection.activate(makeHandler(connection)) {
            complete(.failure(error))
        } else {
            complete(.success(connection))
        }
    }

    private func fail(_ error: IOError) {
        guard !finished else { return }
        stopWaiting()
        try? Posix.close(fd)
        complete(.failure(error))
    }
}
