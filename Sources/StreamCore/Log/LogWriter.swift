#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The writer of one log: takes queued groups in order, writes each batch with one `pwrite` and one
/// `fdatasync`, then resumes the batch's callers.
///
/// It has no thread of its own: the shared ``LogWriterPool`` runs its steps, one at a time, on threads
/// outside the Swift concurrency pool, because `fdatasync` blocks for as long as the disk takes, and a
/// blocked pool thread stalls unrelated tasks (the concurrency pool has one thread per core).
final class LogWriter: @unchecked Sendable {
    // @unchecked: everything below `var` is touched only by `step()`. The log queue lets one pool thread
    // run a step at a time (a writer is scheduled at most once, and unscheduled only by a step), and the
    // pool's lock orders one step before the next, wherever they run; the shared parts (`queue`, `files`,
    // `faults`, `counters`, `exit`) are Sendable.
    let directory: String
    let limits: DurableLogLimits
    let queue: LogQueue
    let files: LogFileTable
    let faults: LogFaultInjector
    let counters: LogCounters
    /// Fired once the writer has finished everything queued before the log was closed.
    let exit = LogWriterExit()

    private var fd: Int32
    private var fileNumber: UInt32
    /// The log's first file: files before it were dropped by a checkpoint.
    private var firstFile: UInt32
    /// Committed (durable) end of the current file: every batch is written here.
    private var fileSize: UInt64
    /// The current file's length on disk: `fileSize` and the zeros reserved after it.
    private var allocatedSize: UInt64
    private var nextBatch: UInt64
    /// Reused for every batch so steady-state writing does not allocate.
    private var buffer: [UInt8] = []

    init(
        directory: String, limits: DurableLogLimits, queue: LogQueue, files: LogFileTable, faults: LogFaultInjector,
        counters: LogCounters, recovered: RecoveredLog
    ) {
        self.directory = directory
        self.limits = limits
        self.queue = queue
        self.files = files
        self.faults = faults
        self.counters = counters
        fileNumber = recovered.lastFile
        firstFile = recovered.firstFile
        fd = recovered.lastFD
        fileSize = recovered.lastSize
        allocatedSize = recovered.lastAllocated
        nextBatch = recovered.nextBatch
        publishReserve()
    }

    /// Takes one step (a batch, a checkpoint's completion, or the exit). Returns true when the writer
    /// must be scheduled again, false once the queue has unscheduled it (nothing to do) or it exited.
    func step() -> Bool {
        switch queue.nextStep(budget: batchBudget) {
        case .sleep:
            return false
        case .write(let groups):
            write(groups)
        case .fail(let groups, let error):
            fail(groups, error)
        case .completeCheckpoint(let tickets):
            completeCheckpoint(tickets)
        case .exit:
            // A cleanly closed log keeps no reserved zeros, so its files end where their data does.
            if queue.failure == nil, (try? releaseReserve()) != nil {
                try? LogCleanMarker(file: fileNumber, size: fileSize, nextBatch: nextBatch).write(in: directory)
            }
            exit.fire()
            return false
        }
        return true
    }

    private var fileHasRecords: Bool { fileSize > UInt64(LogFormat.fileHeaderSize) }

    /// The byte budget of a batch whose first group is `first` bytes: up to what the current file has
    /// room for (or a fresh file, if `first` does not fit), never more than `maxBatchBytes`, and never
    /// less than `first` itself, which always goes.
    private func batchBudget(first: Int) -> Int {
        let room = limits.fileRollBytes - Int(fileSize) - LogFormat.commitFrameSize
        let available = fileHasRecords && first > room
            ? limits.fileRollBytes - LogFormat.fileHeaderSize - LogFormat.commitFrameSize
            : room
        return max(first, min(limits.maxBatchBytes, available))
    }

    private func write(_ groups: [Group]) {
        var total = 0
        var records = 0
        for group in groups {
            total += group.frames.count
            records += group.recordCount
        }
        let full = Int(fileSize) + total + LogFormat.commitFrameSize > limits.fileRollBytes
        if fileHasRecords, full || groups[0].startsFile {
            do throws(StreamsError) {
                try roll()
            } catch {
                return stop(groups, error)
            }
        }

        buffer.removeAll(keepingCapacity: true)
        var placements: [UInt64] = []
        placements.reserveCapacity(groups.count)
        for group in groups {
            placements.append(fileSize + UInt64(buffer.count))
            buffer.append(contentsOf: group.frames)
        }
        LogFormat.appendCommitFrame(batch: nextBatch, recordCount: UInt32(records), to: &buffer)

        let path = directory + "/" + LogFormat.fileName(fileNumber)
        do throws(IOError) {
            try reserve(through: fileSize + UInt64(buffer.count))
            try writeBuffer()
        } catch {
            // Nothing of this batch is committed (no intact commit frame): a reopen cuts it off as a torn
            // tail. Groups queued behind it may follow chunks of this batch (pipelined chunks of one
            // segment), so none of them may be written: the log stops.
            return stop(groups, LogErrors.io("log write to \(path)", error))
        }
        do throws(IOError) {
            try sync(fd)
        } catch {
            // After a failed fdatasync, Linux may already have dropped the dirty pages it could not
            // write and marked them clean, so a retry can "succeed" without the data ever reaching the
            // disk (the error is reported once). What is durable is no longer known here; only a
            // reopen, which reads back what the file really holds, can say. So no further writes.
            return stop(groups, LogErrors.io("flushing \(path)", error))
        }

        fileSize += UInt64(buffer.count)
        nextBatch += 1
        files.setCommitted(fileNumber, size: fileSize)
        publishReserve()
        counters.batches.add(1, ordering: .relaxed)
        counters.appends.add(groups.count, ordering: .relaxed)
        counters.records.add(records, ordering: .relaxed)
        counters.bytesWritten.add(buffer.count, ordering: .relaxed)
        for (group, offset) in zip(groups, placements) {
            group.waiter.resume(returning: .success((fileNumber, offset)))
        }
        faults.reached(.batchDurable)
    }

    private typealias Group = LogQueue.Group

    private func fail(_ groups: [Group], _ error: StreamsError) {
        for group in groups { group.waiter.resume(returning: .failure(error)) }
    }

    /// A write, flush or new file failed: the log becomes read-only (every group queued after these, and
    /// every later append, fails with the same error), so no group can become durable after one queued
    /// before it failed. Only a reopen, which reads back what the files hold, writes again.
    private func stop(_ groups: [Group], _ failure: StreamsError) {
        queue.fail(with: failure.with(message: "log is read-only after a failed write: \(failure.message)"))
        fail(groups, failure.with(message: "log is read-only after a failed write: \(failure.message)"))
    }

    /// One `pwrite` of the whole batch at the committed end. An injected fault writes half first.
    private func writeBuffer() throws(IOError) {
        if let errno = faults.take(.write) {
            try LogFileIO.writeAll(fd, buffer, 0..<(buffer.count / 2), at: fileSize)
            throw IOError(errno: errno, call: "pwrite")
        }
        try LogFileIO.writeAll(fd, buffer, at: fileSize)
    }

    /// Makes the file at least `end` bytes long by writing zeros after it, so that a batch overwrites
    /// zeros instead of growing the file. Growing it makes `fdatasync` write the inode too (the new
    /// size), a second write it waits for: on ext4 here a 4 KB batch's flush took 146 µs that way and
    /// 75 µs over zeros, and the writer half the CPU. The zeros are flushed with the batch that needed
    /// them. Recovery reads zeros after the last batch as the end of the data (`LogFileScanner`).
    private func reserve(through end: UInt64) throws(IOError) {
        guard end > allocatedSize else { return }
        // A page at least, or a new file would grow 32 bytes at a time, a flush of the inode each.
        let growth = max(end - allocatedSize, min(UInt64(limits.reserveBytes), max(allocatedSize, 4096)))
        let target = min(allocatedSize + growth, max(end, UInt64(limits.fileRollBytes)))
        try LogFileIO.writeZeros(fd, allocatedSize..<target)
        allocatedSize = target
        publishReserve()
    }

    /// Cuts the reserved zeros off the current file, durably. Its flush is not ``sync(_:)``'s: that one
    /// counts and times the flushes of batches, which the metrics report as such.
    private func releaseReserve() throws(IOError) {
        guard allocatedSize > fileSize else { return }
        try Posix.ftruncate(fd, Int64(fileSize))
        try Posix.fdatasync(fd)
        allocatedSize = fileSize
        publishReserve()
    }

    /// Tells the log's readers how far the current file extends past its committed data.
    private func publishReserve() {
        counters.reservedBytes.store(Int(allocatedSize - fileSize), ordering: .relaxed)
    }

    private func sync(_ fd: Int32) throws(IOError) {
        counters.syncs.add(1, ordering: .relaxed)
        try counters.syncLatency.measure { () throws(IOError) in
            try faults.check(.sync)
            try Posix.fdatasync(fd)
        }
    }

    /// Starts the next file. The current one is complete: every batch in it is committed.
    private func roll() throws(StreamsError) {
        let next = fileNumber + 1
        // Only a log's last file may end in reserved zeros: an older coordd reads them as a torn tail,
        // which it may cut only from the last file.
        do throws(IOError) {
            try releaseReserve()
        } catch {
            throw LogErrors.io("cutting the reserved zeros off \(LogFormat.fileName(fileNumber)) in \(directory)", error)
        }
        let newFD: Int32
        do throws(IOError) {
            newFD = try LogFileIO.createFile(directory: directory, number: next, faults: faults)
        } catch {
            throw LogErrors.io("creating log file \(LogFormat.fileName(next)) in \(directory)", error)
        }
        counters.syncs.add(1, ordering: .relaxed)
        counters.bytesWritten.add(LogFormat.fileHeaderSize, ordering: .relaxed)
        files.set(next, fd: newFD, committedSize: UInt64(LogFormat.fileHeaderSize))
        fileNumber = next
        fd = newFD
        fileSize = UInt64(LogFormat.fileHeaderSize)
        allocatedSize = fileSize
        publishReserve()
        faults.reached(.fileStarted)
    }

    /// Once every group of a checkpoint is durable, its first file becomes the log's first: the base
    /// marker says so durably, then the older files go. A checkpoint that did not wholly reach the disk
    /// changes nothing (its groups stay in the log, where replay ignores an incomplete checkpoint), and
    /// neither does a failure here: the older files are then removed by a later checkpoint or open.
    private func completeCheckpoint(_ tickets: [LogTicket]) {
        var placements: [LogQueue.Placement] = []
        for ticket in tickets {
            guard case .success(let placement)? = ticket.outcome else { return }
            placements.append(placement)
        }
        guard let base = placements.first?.file, base > firstFile else { return }
        do throws(IOError) {
            try LogBaseMarker(file: base).write(in: directory)
        } catch {
            counters.checkpointFailures.add(1, ordering: .relaxed)
            return
        }
        faults.reached(.baseMarked)
        let old = firstFile
        firstFile = base
        files.removeFiles(before: base)
        for number in old..<base {
            do throws(IOError) {
                try Posix.unlink(directory + "/" + LogFormat.fileName(number))
            } catch {
                counters.checkpointFailures.add(1, ordering: .relaxed)
                break
            }
            counters.filesRemoved.add(1, ordering: .relaxed)
            faults.reached(.fileRemoved)
        }
        try? Posix.syncDirectory(directory)
        counters.checkpoints.add(1, ordering: .relaxed)
    }
}

/// The one-time signal that a writer has exited: waited for by `close()`, blocking or not.
final class LogWriterExit: Sendable {
    private let state = Mutex<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    private let fired = ThreadSemaphore()

    /// Wakes every waiter, present and future.
    func fire() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.fired = true
            defer { s.waiters = [] }
            return s.waiters
        }
        fired.signal()
        for waiter in waiters { waiter.resume() }
    }

    /// Blocks the calling thread until fired.
    func wait() {
        fired.wait()
        fired.signal()  // passes the signal on to any other blocking waiter
    }

    /// Suspends until fired, holding no thread.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if !s.fired { s.waiters.append(continuation) }
                return s.fired
            }
            if done { continuation.resume() }
        }
    }
}
