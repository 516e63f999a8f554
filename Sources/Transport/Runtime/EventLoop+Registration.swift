import CLinux
import Glibc
import StreamCore

/// Descriptors, timers and deferred work: all loop-confined.
extension EventLoop {
    /// Starts watching `fd` for `interest`; `handler` is called with its readiness until
    /// ``deregister(_:)``. The loop holds `handler` strongly while it is registered.
    ///
    /// Throws the loop-shut-down error once the loop is stopping. A registration made while the
    /// loop drains is asked to finish right after (graceful shutdown applies to it too).
    public func register(_ fd: Int32, interest: IOInterest, handler: any IOReadinessHandler) throws(IOError) {
        preconditionInEventLoop()
        guard confined.phase != .stopping else { throw .loopShutDown }
        precondition(confined.registrations[fd] == nil, "descriptor \(fd) is already registered")
        confined.nextGeneration = confined.nextGeneration == UInt32.max - 1 ? 0 : confined.nextGeneration + 1
        let generation = confined.nextGeneration
        var event = epoll_event()
        event.events = interest.epollEvents
        event.data.u64 = UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd))
        _ = try Posix.call("epoll_ctl(ADD)") { epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) }
        confined.registrations[fd] = LoopState.Registration(generation: generation, interest: interest, handler: handler)
        if confined.phase == .draining {
            runAfterEvents { [weak handler] in handler?.loopShuttingDown(graceful: true) }
        }
    }

    /// Changes what a registered `fd` waits for; no system call when it is unchanged.
    public func setInterest(_ interest: IOInterest, for fd: Int32) throws(IOError) {
        preconditionInEventLoop()
        guard var registration = confined.registrations[fd] else {
            preconditionFailure("descriptor \(fd) is not registered")
        }
        guard registration.interest != interest else { return }
        var event = epoll_event()
        event.events = interest.epollEvents
        event.data.u64 = UInt64(registration.generation) << 32 | UInt64(UInt32(bitPattern: fd))
        _ = try Posix.call("epoll_ctl(MOD)") { epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event) }
        registration.interest = interest
        confined.registrations[fd] = registration
    }

    /// Stops watching `fd` and releases its handler. The caller still owns (and closes) `fd`.
    /// Deregistering a descriptor that is not registered does nothing.
    public func deregister(_ fd: Int32) throws(IOError) {
        preconditionInEventLoop()
        guard confined.registrations.removeValue(forKey: fd) != nil else { return }
        _ = try Posix.call("epoll_ctl(DEL)") { epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil) }
    }

    /// Runs `body` on this loop once at least `delay` milliseconds have passed. Timers with the same
    /// deadline fire in the order they were scheduled. A timer may fire a little late, never early.
    @discardableResult
    public func scheduleTimer(afterMs delay: Int, _ body: @escaping () -> Void) -> TimerID {
        preconditionInEventLoop()
        return confined.timers.schedule(at: .now + .milliseconds(max(0, delay)), body)
    }

    /// Cancels a timer; a cancelled timer never fires. Cancelling one that already fired does nothing.
    public func cancelTimer(_ id: TimerID) {
        preconditionInEventLoop()
        confined.timers.cancel(id)
    }

    /// Runs `body` at the end of this turn of the loop, after the readiness events, timers and
    /// submitted tasks of the turn, so work requested many times in one turn (a connection's flush)
    /// is done once.
    func runAfterEvents(_ body: @escaping () -> Void) {
        preconditionInEventLoop()
        confined.deferred.append(body)
    }

    /// The loop's shared read buffer (see ``RuntimeLimits/readBufferBytes``).
    var readBuffer: UnsafeMutableRawBufferPointer {
        confined.readBuffer
    }
}
