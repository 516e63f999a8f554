/// How ``FileCompactingLog`` lays its records out in a ``DurableLog``, and how it reads them back.
///
/// Kinds: 1 an event (the owner's bytes); 2 a checkpoint's beginning (u64 LE: its record count);
/// 3 one record of the checkpoint (the owner's bytes); 4 the checkpoint's end (u64 LE: the count
/// again). A checkpoint counts only when its beginning, exactly that many records, and its end follow
/// one another: a checkpoint that was cut short (a crash, a group whose write failed) is ignored, and
/// an event that follows an unfinished checkpoint shows that it was abandoned.
enum CompactingLogRecords {
    static let eventKind: UInt8 = 1
    static let checkpointBeginKind: UInt8 = 2
    static let checkpointRecordKind: UInt8 = 3
    static let checkpointEndKind: UInt8 = 4

    /// The log records of a checkpoint of `records`, in groups of at most `maxGroupBytes` framed bytes.
    static func checkpointGroups(_ records: [[UInt8]], maxGroupBytes: Int) -> [[LogRecord]] {
        var count: [UInt8] = []
        LogFormat.appendLE(UInt64(records.count), to: &count)
        var groups: [[LogRecord]] = []
        var group = [LogRecord(kind: checkpointBeginKind, payload: count)]
        var groupBytes = LogFormat.frameHeaderSize + count.count
        for record in records {
            let size = LogFormat.frameHeaderSize + record.count
            if groupBytes + size > maxGroupBytes {
                groups.append(group)
                group = []
                groupBytes = 0
            }
            group.append(LogRecord(kind: checkpointRecordKind, payload: record))
            groupBytes += size
        }
        if groupBytes + LogFormat.frameHeaderSize + count.count > maxGroupBytes {
            groups.append(group)
            group = []
        }
        group.append(LogRecord(kind: checkpointEndKind, payload: count))
        groups.append(group)
        return groups
    }
}

/// Reads a compacting log's records in order and keeps what recovery needs: the last complete
/// checkpoint, the events after it, and where that checkpoint starts.
struct CompactingLogReplay {
    private(set) var contents = CompactingLogContents()
    /// The file the last complete checkpoint begins in.
    private(set) var checkpointFile: UInt32?
    private(set) var checkpointBytes = 0
    private(set) var bytesSinceCheckpoint = 0
    /// The checkpoint being read: the count its beginning announced, its records so far.
    private var pending: (count: UInt64, records: [[UInt8]], bytes: Int, file: UInt32)?

    /// Takes the next record of the log.
    mutating func read(kind: UInt8, payload: UnsafeRawBufferPointer, at position: LogPosition) throws(StreamsError) {
        let size = LogFormat.frameHeaderSize + payload.count
        switch kind {
        case CompactingLogRecords.eventKind:
            pending = nil
            contents.events.append(Array(payload))
            bytesSinceCheckpoint += size
        case CompactingLogRecords.checkpointBeginKind:
            pending = (try Self.count(payload, at: position), [], 0, position.file)
        case CompactingLogRecords.checkpointRecordKind:
            // Without a beginning, this belongs to a checkpoint whose first group never reached the log.
            pending?.records.append(Array(payload))
            pending?.bytes += size
        case CompactingLogRecords.checkpointEndKind:
            let count = try Self.count(payload, at: position)
            if let done = pending, done.count == count, done.records.count == count {
                contents = CompactingLogContents(checkpoint: done.records, events: [])
                checkpointFile = done.file
                checkpointBytes = done.bytes
                bytesSinceCheckpoint = 0
            }
            pending = nil
        default:
            throw .storage("unknown compacting log record kind \(kind) at \(position)")
        }
    }

    private static func count(_ payload: UnsafeRawBufferPointer, at position: LogPosition) throws(StreamsError) -> UInt64 {
        guard payload.count == 8 else { throw .storage("malformed checkpoint marker at \(position)") }
        return UInt64(littleEndian: payload.loadUnaligned(as: UInt64.self))
    }
}
