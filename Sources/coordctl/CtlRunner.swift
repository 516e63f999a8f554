import CoordClient
import StreamCore

/// Runs one command against a store and writes what it finds: tables for people, JSON lines with
/// `--json`. Talks only to a ``CoordClient``, so tests run it over the in-process transport.
struct CtlRunner: Sendable {
    /// The store's client.
    let client: CoordClient
    /// JSON lines instead of tables.
    let json: Bool
    /// Where results and errors go.
    let output: any CtlOutput
    /// The next line of standard input without its line feed, nil at the end (`produce`). It may
    /// block: coordctl runs one command per process, and the transport has threads of its own.
    let readLine: @Sendable () -> String?
    /// The daemon's URL, for the hint that follows a connection failure.
    var server = GlobalOptions().server

    /// Runs `command`; returns the exit status: 0, 1 after writing the daemon's error to stderr, or 3
    /// when the daemon could not be reached (``CtlExit``).
    func run(_ command: CtlCommand) async -> Int32 {
        do {
            try await execute(command)
            return 0
        } catch {
            // Interrupting --watch or --follow is how they end.
            if error == .cancelled, Task.isCancelled { return 0 }
            return CtlFailure.report(error, server: server, output: output)
        }
    }

    private func execute(_ command: CtlCommand) async throws(StreamsError) {
        switch command {
        case .workers(let watch): try await workers(watch: watch)
        case let .worker(id, metadata, heartbeatMs): try await worker(id ?? WireUUID.random(), metadata, heartbeatMs)
        case let .leaseAcquire(key, holder, ttlMs, waitMs):
            try await acquire(key, holder ?? WireUUID.random().description, ttlMs, waitMs: waitMs)
        case let .leaseRenew(key, holder, ttlMs): try await renew(key, holder, ttlMs)
        case let .leaseRelease(key, holder): try await release(key, holder)
        case .leaseList(let prefix):
            let leases = try await client.leases(prefix: prefix)
            output.write(json ? leases.map(CtlFormat.jsonLine).joined() : CtlFormat.leases(leases))
        case let .produce(space, segment): try await produce(space, segment)
        case let .consume(space, segment, follow): try await consume(space, segment, follow: follow)
        case .spaces:
            let names = try await client.spaces()
            output.write(json ? names.map { CtlFormat.jsonLine(["space": $0]) }.joined() : lines(names, empty: "no spaces"))
        case .segments(let space):
            let names = try await client.segments(in: space)
            output.write(json ? names.map { CtlFormat.jsonLine(["space": space, "segment": $0]) }.joined()
                              : lines(names, empty: "no segments in \(space)"))
        case .status:
            let status = try await client.status()
            output.write(json ? CtlFormat.jsonLine(status) : CtlFormat.status(status))
        case .assignments(let group):
            let groups = try await client.assignmentGroups(named: group ?? "")
            if let group, groups.isEmpty { throw .invalidRequest("no assignment group named \(group)") }
            output.write(json ? groups.map(CtlFormat.jsonLine).joined()
                              : group == nil ? CtlFormat.assignmentGroups(groups) : CtlFormat.assignmentGroup(groups[0]))
        case .storeCreate(let store):
            let created = try await CoordClient(provider: client.provider, store: store).createStore()
            output.write(json ? CtlFormat.jsonLine(StoreCreateResult(storeID: store, created: created))
                              : created ? "created store \(store)\n" : "store \(store) exists already\n")
        }
    }

    private func lines(_ names: [String], empty: String) -> String {
        names.isEmpty ? empty + "\n" : names.map { $0 + "\n" }.joined()
    }

    // MARK: Workers

    private func workers(watch: Bool) async throws(StreamsError) {
        let output = self.output
        let json = self.json
        let announce: @Sendable (ConnectionChange) -> Void = { change in
            Self.announce(CtlFormat.connection(change, json: json), json: json, to: output)
        }
        let updates = try await client.workers(connectionChanges: watch ? announce : nil)
        defer { updates.close() }
        var first = true
        var shown: (epoch: UInt64?, revision: UInt64?)?
        for try await inventory in updates {
            if let shown, inventory.epoch == shown.epoch, let revision = inventory.revision, let last = shown.revision,
               revision < last {
                continue  // Never an older revision after a newer one, across a reconnect too.
            }
            if let shown, let epoch = inventory.epoch, let previous = shown.epoch, epoch != previous {
                Self.announce(CtlFormat.newEpoch(epoch, json: json), json: json, to: output)
            }
            shown = (inventory.epoch, inventory.revision)
            if json {
                output.write(watch ? CtlFormat.jsonLine(inventory) : inventory.workers.map(CtlFormat.jsonLine).joined())
            } else {
                output.write(watch ? (first ? "" : "\n") + CtlFormat.inventoryHeader(inventory) + CtlFormat.workers(inventory)
                                   : CtlFormat.workers(inventory))
            }
            first = false
            if !watch { return }
        }
        throw .streamClosed("the server ended the worker inventory stream")
    }

    /// Holds a registration until the task is cancelled (interrupted) or the server ends it.
    private func worker(_ id: WireUUID, _ metadata: [String: String], _ heartbeatMs: Int64) async throws(StreamsError) {
        // It never looks at the inventory, so it does not ask for one (a streamkit server ignores the field).
        let output = self.output
        let json = self.json
        let registration = try await client.registerWorker(
            id: id, metadata: metadata, heartbeatIntervalMs: heartbeatMs, presenceOnly: true,
            connectionChanges: { change in Self.announce(CtlFormat.connection(change, json: json), json: json, to: output) })
        output.write(json ? CtlFormat.jsonLine(["worker_id": id.description])
                          : "registered worker \(id); interrupt (Ctrl-C) to deregister\n")
        let ended = await withTaskCancellationHandler {
            await registration.waitUntilEnded()
        } onCancel: {
            registration.close()
        }
        if let ended { throw ended }
    }

    /// A line about the connection: a JSON line among the others with `--json`, else on standard error
    /// so that the tables on standard output stay as they are.
    private static func announce(_ line: String, json: Bool, to output: any CtlOutput) {
        if json { output.write(line) } else { output.writeError(line) }
    }

    // MARK: Leases

    private func acquire(_ key: String, _ holder: String, _ ttlMs: Int64, waitMs: Int64?) async throws(StreamsError) {
        let result: LeaseResult
        if let waitMs {
            let client = self.client
            do {
                result = try await client.acquire(key: key, holder: holder, ttl: .milliseconds(ttlMs), waitingUpTo: .milliseconds(waitMs))
            } catch let error as CoordError {
                throw error.streamsError
            } catch {
                throw .cancelled
            }
        } else {
            result = try await client.acquire(key: key, holder: holder, ttl: .milliseconds(ttlMs))
        }
        if json { output.write(CtlFormat.jsonLine(result)) }
        guard result.ok else { throw .leaseNotAcquired("lease \"\(key)\" not acquired: \(result.refusalDescription)") }
        if !json { output.write(CtlFormat.lease("acquired", key: key, holder: holder, result)) }
    }

    private func renew(_ key: String, _ holder: String, _ ttlMs: Int64) async throws(StreamsError) {
        let result = try await client.renew(key: key, holder: holder, ttl: .milliseconds(ttlMs))
        if json { output.write(CtlFormat.jsonLine(result)) }
        guard result.ok else {
            throw StreamsError(.permanent, name: "lease_not_renewed",
                               message: "lease \"\(key)\" not renewed for \(holder): \(result.refusalDescription)")
        }
        if !json { output.write(CtlFormat.lease("renewed", key: key, holder: holder, result)) }
    }

    private func release(_ key: String, _ holder: String) async throws(StreamsError) {
        let result = try await client.release(key: key, holder: holder)
        if json { output.write(CtlFormat.jsonLine(result)) }
        guard result.ok else {
            throw StreamsError(.permanent, name: "lease_not_released",
                               message: "lease \"\(key)\" not released for \(holder): \(result.refusalDescription)")
        }
        if !json { output.write("released \"\(key)\" for holder \(holder)\n") }
    }

    // MARK: Produce

    /// One record per input line, numbered from the segment's head + 1, in streams of one chunk each.
    private func produce(_ space: String, _ segment: String) async throws(StreamsError) {
        let head = try await client.peek(space: space, segment: segment)
        var next = head.sequence + 1
        var total = 0
        var last: SegmentStatus?
        var inputEnded = false
        while !inputEnded {
            var batch: [Record] = []
            while batch.count < CtlLimits.produceBatchRecords {
                guard let line = readLine() else {
                    inputEnded = true
                    break
                }
                batch.append(Record(sequence: next + UInt64(batch.count), payload: Array(line.utf8)))
            }
            if batch.isEmpty { break }
            let statuses = try await client.produce(space: space, segment: segment, records: batch)
            if json { output.write(statuses.map(CtlFormat.jsonLine).joined()) }
            last = statuses.last ?? last
            total += batch.count
            next += UInt64(batch.count)
        }
        if !json { output.write(CtlFormat.produced(space: space, segment: segment, count: total, last: last)) }
    }

    // MARK: Consume

    private func consume(_ space: String, _ segment: String?, follow: Bool) async throws(StreamsError) {
        var cursor = ConsumeCursor(space: space, segment: segment)
        try await readNew(&cursor)
        guard follow else { return }
        // Statuses announce commits; each one is followed by a read from the cursor. The subscription
        // starts with the current status, which covers anything committed since the first read.
        let heartbeat = segment == nil ? CtlLimits.followHeartbeatSeconds : 0
        for try await status in client.subscribe(space: space, segment: segment ?? "*", heartbeatIntervalSeconds: heartbeat) {
            if !status.heartbeat { cursor.announce(status) }
            try await readNew(&cursor)
            var retries = 0
            while cursor.isBehind, retries < CtlLimits.followRetries {
                try? await Task.sleep(for: .milliseconds(CtlLimits.followRetryPauseMs))
                try await readNew(&cursor)
                retries += 1
            }
        }
    }

    private func readNew(_ cursor: inout ConsumeCursor) async throws(StreamsError) {
        let entries = cursor.segment.map { segment in
            client.consumeSegment(ConsumeSegment(space: cursor.space, segment: segment, minSequence: cursor.nextSequence))
        } ?? client.consumeSpace(ConsumeSpace(space: cursor.space, offset: cursor.offset))
        for try await entry in entries {
            cursor.advance(past: entry)
            output.write(json ? CtlFormat.jsonLine(entry) : CtlFormat.entry(entry))
        }
    }
}

/// Where a consume has read up to, and what statuses say exists beyond it.
struct ConsumeCursor {
    let space: String
    let segment: String?
    /// Segment reads: the next sequence to read.
    var nextSequence: UInt64 = 1
    /// Space reads: the space offset of the last entry read.
    var offset: [UInt8] = []
    /// Space reads: the timestamp of the last entry read.
    var lastTimestamp = Int64.min
    /// The newest commit a status announced.
    private var announcedSequence: UInt64 = 0
    private var announcedTimestamp = Int64.min

    init(space: String, segment: String?) {
        self.space = space
        self.segment = segment
    }

    mutating func advance(past entry: Entry) {
        nextSequence = entry.sequence + 1
        offset = entry.spaceOffset.bytes
        lastTimestamp = entry.timestamp
    }

    mutating func announce(_ status: SegmentStatus) {
        announcedSequence = max(announcedSequence, status.lastSequence)
        announcedTimestamp = max(announcedTimestamp, status.lastTimestamp)
    }

    /// True while an announced commit has not been read: a space read shows the newest millisecond
    /// only once it has passed, so the read is repeated shortly.
    var isBehind: Bool {
        segment == nil ? lastTimestamp < announcedTimestamp : nextSequence <= announcedSequence
    }
}
