import Synchronization

/// A ``CompactingLog`` kept in memory: for the memory store, and for tests. A checkpoint replaces
/// everything before it at once, so memory stays as small as the state, and ``recover()`` can be
/// asked again at any time (another owner on the same store reads what the first one left).
public final class MemoryCompactingLog: CompactingLog {
    private struct State {
        var contents = CompactingLogContents()
        var schedule: CheckpointSchedule
        var closed = false
    }

    private let state: Mutex<State>

    /// An empty log.
    public init(limits: CompactingLogLimits = .init()) {
        state = Mutex(State(schedule: CheckpointSchedule(limits: limits)))
    }

    public func recover() throws(StreamsError) -> CompactingLogContents {
        state.withLock { $0.contents }
    }

    public func append(_ events: [[UInt8]]) throws(StreamsError) -> LogCommit {
        try state.withLock { s throws(StreamsError) in
            if s.closed { throw .shuttingDown.with(message: "log is closed") }
            s.contents.events += events
            s.schedule.appended(CheckpointSchedule.size(of: events))
        }
        return .immediate
    }

    public var wantsCheckpoint: Bool { state.withLock { $0.schedule.isDue } }

    public func appendCheckpoint(_ records: [[UInt8]]) throws(StreamsError) -> LogCommit {
        try state.withLock { s throws(StreamsError) in
            if s.closed { throw .shuttingDown.with(message: "log is closed") }
            s.contents = CompactingLogContents(checkpoint: records, events: [])
            s.schedule.checkpointed(CheckpointSchedule.size(of: records))
        }
        return .immediate
    }

    public var stats: CompactingLogStats { state.withLock { $0.schedule.stats } }

    public func close() async {
        state.withLock { $0.closed = true }
    }
}
