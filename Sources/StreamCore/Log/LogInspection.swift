#if canImport(Glibc)
import Glibc
#endif

/// What a read-only pass over a log directory found, judged exactly as ``DurableLog/open`` judges it
/// (the same listing, scanner and rules, see ``LogRecovery``), and what a repair would remove.
///
/// A repair keeps the log up to the end of its last committed batch before the first damage: it cuts
/// the damaged file there (or removes it, when its header is not a log header) and removes every later
/// file. That is the longest prefix of the log that is known to be intact; what follows the damage
/// cannot be trusted or, for a gap in the numbering, ordered.
public struct LogInspection: Sendable {
    /// One file that was read.
    public struct FileReport: Sendable, Hashable {
        /// Its name, e.g. `00000002.log`.
        public var name: String
        /// Its size in bytes.
        public var size: UInt64
        /// Records in its committed batches (up to any damage).
        public var records: Int
        /// Its committed batches (up to any damage).
        public var batches: Int
        /// The end of its last committed batch (up to any damage).
        public var committedEnd: UInt64
    }

    /// The first damage in the log.
    public struct Damage: Sendable, Hashable {
        /// The file it is in (for a gap, the missing file).
        public var file: String
        /// Where it starts in that file.
        public var offset: UInt64
        /// What is wrong, in the words the open uses.
        public var reason: String
        /// True for a torn tail, which the open cuts off by itself; false for damage that stops the open.
        public var openRepairsIt: Bool
    }

    /// One change a repair makes.
    public enum RepairStep: Sendable, Hashable, CustomStringConvertible {
        /// Cut `file` at `offset`, the end of its last committed batch before the damage: `bytes` go.
        case cut(file: String, offset: UInt64, bytes: UInt64)
        /// Remove `file` (`bytes` long, holding `records` records in committed batches).
        case remove(file: String, bytes: UInt64, records: Int)
        /// Remove a marker file (the base marker, when the files it names all go).
        case removeMarker(String)

        public var description: String {
            switch self {
            case .cut(let file, let offset, let bytes):
                "cut \(file) at offset \(offset), removing its last \(bytes) bytes (the damaged batch and everything after it)"
            case .remove(let file, let bytes, let records):
                "remove \(file) (\(bytes) bytes, \(records) records in committed batches)"
            case .removeMarker(let name):
                "remove \(name) (it names a file that goes)"
            }
        }
    }

    /// The directory that was read.
    public var directory: String
    /// The files that were read, in order, up to and including the damaged one.
    public var files: [FileReport] = []
    /// Facts that need no repair: leftovers of a checkpoint, a file whose creation a crash cut short,
    /// a clean shutdown.
    public var notes: [String] = []
    /// The first damage, if there is any.
    public var damage: Damage?
    /// What ``repair()`` changes, in order.
    public var repairSteps: [RepairStep] = []

    /// True when the log opens as it is: nothing is damaged, or only a torn tail the open cuts off.
    public var opens: Bool { damage.map(\.openRepairsIt) ?? true }

    /// Reads the log in `directory` without changing anything.
    public static func inspect(directory: String) throws(StreamsError) -> LogInspection {
        var inspection = LogInspection(directory: directory)
        let listing = try LogRecovery.listing(directory: directory)
        if !listing.leftovers.isEmpty {
            inspection.notes.append(
                "\(listing.leftovers.map(LogFormat.fileName).joined(separator: ", ")) precede the base of the log "
                    + "(a checkpoint was interrupted): the open removes them")
        }
        let marker = try LogRecovery.io("reading the clean-shutdown marker in \(directory)") { () throws(IOError) in
            try LogCleanMarker.read(in: directory)
        }
        var numbers = listing.numbers.filter { $0 < listing.missing?.file ?? .max }
        if listing.missing == nil, let last = numbers.last, try LogRecovery.headerNeverLanded(directory: directory, number: last) {
            inspection.notes.append("\(LogFormat.fileName(last)) was being created when a crash came: the open removes it")
            numbers.removeLast()
        }

        var nextBatch: UInt64?
        for number in numbers {
            let name = LogFormat.fileName(number)
            let path = directory + "/" + name
            let fd = try LogRecovery.io("opening \(path)") { () throws(IOError) in try Posix.open(path, O_RDONLY) }
            defer { try? Posix.close(fd) }
            let size = UInt64(try LogRecovery.io("reading \(path)") { () throws(IOError) in try Posix.fileSize(fd) })
            let verdict = try Self.examine(
                fd: fd, path: path, number: number, size: size, nextBatch: nextBatch,
                isLast: number == numbers.last && listing.missing == nil, marker: marker)
            let outcome = verdict.outcome
            inspection.files.append(FileReport(
                name: name, size: size, records: outcome.records, batches: outcome.batches, committedEnd: outcome.committedEnd))
            if let batch = outcome.lastBatch { nextBatch = batch + 1 }
            if let broken = verdict.broken {
                inspection.damage = Damage(file: name, offset: broken.offset, reason: broken.reason, openRepairsIt: false)
            } else if let torn = verdict.torn {
                inspection.damage = Damage(file: name, offset: torn.offset, reason: torn.reason, openRepairsIt: true)
            }
            if inspection.damage != nil {
                try inspection.planRepair(cutting: number, at: outcome.committedEnd, size: size, listing: listing)
                return inspection
            }
        }
        if let missing = listing.missing {
            inspection.damage = Damage(
                file: LogFormat.fileName(missing.file), offset: 0, reason: "the file is missing", openRepairsIt: false)
            try inspection.planRepair(removingFrom: missing.file, listing: listing)
        } else if let marker, marker.file == numbers.last {
            inspection.notes.append("the log was closed cleanly")
        }
        return inspection
    }

    /// ``LogRecovery/examine`` without a replay, its errors as storage errors.
    private static func examine(
        fd: Int32, path: String, number: UInt32, size: UInt64, nextBatch: UInt64?, isLast: Bool, marker: LogCleanMarker?
    ) throws(StreamsError) -> LogFileVerdict {
        do {
            return try LogRecovery.examine(
                fd: fd, path: path, number: number, size: size, nextBatch: nextBatch, isLast: isLast, marker: marker
            ) { _, _, _ in }
        } catch let error as StreamsError {
            throw error
        } catch let error as IOError {
            throw LogErrors.io("reading \(path)", error)
        } catch {
            throw .storage("reading \(path) failed: \(error)")
        }
    }

    /// The committed records of file `number`, read on their own (for what a repair removes).
    private static func countRecords(path: String, number: UInt32) throws(StreamsError) -> (size: UInt64, records: Int) {
        let fd = try LogRecovery.io("opening \(path)") { () throws(IOError) in try Posix.open(path, O_RDONLY) }
        defer { try? Posix.close(fd) }
        let size = UInt64(try LogRecovery.io("reading \(path)") { () throws(IOError) in try Posix.fileSize(fd) })
        guard size > UInt64(LogFormat.fileHeaderSize) else { return (size, 0) }
        do {
            return (size, try LogFileScanner(fd: fd, number: number, size: size).scan(nextBatch: nil) { _, _, _ in }.records)
        } catch let error as IOError {
            throw LogErrors.io("reading \(path)", error)
        } catch {
            throw .storage("reading \(path) failed: \(error)")
        }
    }

    /// Plans to cut file `number` at `end` (or remove it, if not even its header is intact) and to remove
    /// every later file.
    private mutating func planRepair(cutting number: UInt32, at end: UInt64, size: UInt64, listing: LogDirectoryListing)
        throws(StreamsError)
    {
        if end < UInt64(LogFormat.fileHeaderSize) {
            try planRepair(removingFrom: number, listing: listing)
            return
        }
        try planRepair(removingFrom: number + 1, listing: listing)
        if size > end { repairSteps.append(.cut(file: LogFormat.fileName(number), offset: end, bytes: size - end)) }
    }

    /// Plans to remove every file of the log numbered `first` or later, highest first, so that a repair
    /// that is itself interrupted leaves no gap; and, if that takes the base's own file, the base marker
    /// and the leftovers before it too (the log then starts afresh).
    private mutating func planRepair(removingFrom first: UInt32, listing: LogDirectoryListing) throws(StreamsError) {
        var doomed = listing.numbers.filter { $0 >= first }
        if let base = listing.base, first <= base {
            doomed += listing.leftovers
        }
        for number in doomed.sorted(by: >) {
            let (size, records) = try Self.countRecords(path: directory + "/" + LogFormat.fileName(number), number: number)
            repairSteps.append(.remove(file: LogFormat.fileName(number), bytes: size, records: records))
        }
        if let base = listing.base, first <= base { repairSteps.append(.removeMarker(LogFormat.baseMarkerName)) }
    }

    /// Makes the changes of ``repairSteps``, durably: a log that did not open then opens, holding every
    /// committed batch before the first damage.
    public func repair() throws(StreamsError) {
        for step in repairSteps {
            switch step {
            case .cut(let file, let offset, _):
                let path = directory + "/" + file
                try LogRecovery.io("cutting \(path)") { () throws(IOError) in
                    let fd = try Posix.open(path, O_RDWR)
                    defer { try? Posix.close(fd) }
                    try Posix.ftruncate(fd, Int64(offset))
                    try Posix.fdatasync(fd)
                }
            case .remove(let file, _, _):
                try LogRecovery.io("removing \(directory)/\(file)") { () throws(IOError) in
                    try Posix.unlink(directory + "/" + file)
                    try Posix.syncDirectory(directory)
                }
            case .removeMarker(let name):
                try LogRecovery.io("removing \(directory)/\(name)") { () throws(IOError) in
                    try LogMarkerFile.remove(name: name, in: directory)
                }
            }
        }
    }
}
