import CLinux

/// Which readiness a registered descriptor waits for.
public struct IOInterest: OptionSet, Sendable, Hashable {
    /// The interest bits.
    public let rawValue: UInt8
    /// Creates an interest set from its raw bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Wake when the descriptor has bytes (or a connection, or an end of stream) to read.
    public static let read = IOInterest(rawValue: 1 << 0)
    /// Wake when the descriptor can take more bytes.
    public static let write = IOInterest(rawValue: 1 << 1)

    /// The `EPOLLIN` / `EPOLLOUT` bits for `epoll_ctl`. Level-triggered: a descriptor left ready is
    /// reported again, so a handler may stop after a bounded amount of work without losing an event.
    var epollEvents: UInt32 {
        var events: UInt32 = 0
        if contains(.read) { events |= EPOLLIN.rawValue }
        if contains(.write) { events |= EPOLLOUT.rawValue }
        return events
    }
}

/// What `epoll_wait` reported for a descriptor.
public struct IOEvents: OptionSet, Sendable, Hashable {
    /// The event bits.
    public let rawValue: UInt8
    /// Creates an event set from its raw bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `EPOLLIN`: readable.
    public static let readable = IOEvents(rawValue: 1 << 0)
    /// `EPOLLOUT`: writable.
    public static let writable = IOEvents(rawValue: 1 << 1)
    /// `EPOLLHUP`: both directions are finished. Reported even without interest.
    public static let hangUp = IOEvents(rawValue: 1 << 2)
    /// `EPOLLERR`: the socket has a pending error. Reported even without interest.
    public static let error = IOEvents(rawValue: 1 << 3)

    init(epollEvents: UInt32) {
        var events: IOEvents = []
        if epollEvents & EPOLLIN.rawValue != 0 { events.insert(.readable) }
        if epollEvents & EPOLLOUT.rawValue != 0 { events.insert(.writable) }
        if epollEvents & EPOLLHUP.rawValue != 0 { events.insert(.hangUp) }
        if epollEvents & EPOLLERR.rawValue != 0 { events.insert(.error) }
        self = events
    }
}

/// The owner of a descriptor registered with an ``EventLoop``. Called only on that loop's thread.
///
/// ``hangUp`` and ``error`` arrive whatever the interest, so a handler must act on them (close or
/// deregister) rather than ignore them, or level-triggered epoll reports them again at once.
public protocol IOReadinessHandler: AnyObject {
    /// The descriptor is ready as `events` says.
    func ioReady(_ events: IOEvents)

    /// The loop is shutting down. When `graceful`, finish what is under way (flush, then close) and
    /// deregister; otherwise close and deregister at once. A handler still registered after a
    /// non-graceful call is dropped by the loop.
    func loopShuttingDown(graceful: Bool)
}
