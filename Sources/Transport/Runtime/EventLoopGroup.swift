import Glibc
import StreamCore
import Synchronization

/// A fixed set of ``EventLoop``s, one thread each, handed out round-robin.
public final class EventLoopGroup: Sendable {
    /// The loops, in the order ``next()`` hands them out.
    public let loops: [EventLoop]
    /// The bytes held for the peers of every connection accepted on the group's loops, bounded by
    /// ``RuntimeLimits/maxOutboundBytes``.
    public let outboundBudget: OutboundBudget
    private let cursor = Atomic<Int>(0)

    /// The number of online processors: one loop per core (ARCHITECTURE §5).
    public static var defaultLoopCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Starts `loopCount` loops sharing `limits`, reporting to `events`. If one cannot start, those
    /// already started are shut down and the error is thrown.
    public init(
        loopCount: Int = EventLoopGroup.defaultLoopCount, limits: RuntimeLimits = RuntimeLimits(),
        events: RuntimeEvents = .ignored
    ) throws(IOError) {
        precondition(loopCount > 0, "an event loop group needs at least one loop")
        var loops: [EventLoop] = []
        for _ in 0..<loopCount {
            do {
                loops.append(try EventLoop(limits: limits, events: events))
            } catch {
                for loop in loops { loop.shutdown() }
                throw error
            }
        }
        self.loops = loops
        outboundBudget = OutboundBudget(limits: limits)
    }

    /// The limits the group's loops were created with.
    public var limits: RuntimeLimits { loops[0].limits }

    /// The next loop, round-robin. Callable from any thread.
    public func next() -> EventLoop {
        let index = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops[Int(UInt(bitPattern: index) % UInt(loops.count))]
    }

    /// Stops every loop and waits for their threads: listeners stop, connections flush and close
    /// within `graceMs` (default ``RuntimeLimits/shutdownGraceMs``), then the rest is closed at once.
    /// Blocks the calling thread; must not be called on one of the group's loops.
    public func shutdownGracefully(graceMs: Int? = nil) {
        let grace = graceMs ?? limits.shutdownGraceMs
        for loop in loops { loop.requestShutdown(graceMs: grace) }
        for loop in loops { loop.waitForThreadExit() }
    }
}
