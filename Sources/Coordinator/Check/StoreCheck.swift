import StreamCore

/// `coordd check`: reads the logs of a data directory with the daemon's own recovery code (through
/// ``LogInspection``), reports per store and file what is intact and where damage starts, and with
/// `--repair` cuts each damaged log back to its last committed batch before the damage.
public enum StoreCheck {
    /// How `coordd check` ends.
    public enum Status: Int32, Sendable {
        /// Every log opens: nothing is damaged, only a torn tail that the open cuts off, or repaired.
        case opens = 0
        /// A log does not open and was left as it is (no `--repair`, or `--dry-run`).
        case damaged = 1
        /// The check could not run: the directory is in use by a daemon, or cannot be read.
        case cannotCheck = 3
    }

    /// Checks (and repairs, if asked) the stores `options` name, writing the report line by line.
    public static func run(_ options: StoreCheckOptions, write: (String) -> Void) -> Status {
        let root = options.dataDirectory
        let lock: DataDirectoryLock
        do {
            lock = try DataDirectoryLock.acquire(directory: root)
        } catch {
            write("coordd check: \(error)")
            return .cannotCheck
        }
        defer { lock.release() }
        let stores: [WireUUID]
        do {
            stores = try storeDirectories(in: root, only: options.store)
        } catch {
            write("coordd check: \(error.message)")
            return .cannotCheck
        }
        var logs = 0
        var failing = 0
        for store in stores {
            write("store \(store)")
            let directory = root + "/" + store.description
            var parts = [("log", directory)]
            if (try? Posix.listDirectory(directory).contains(FileStore.leaseLogDirectory)) == true {
                parts.append(("lease log", directory + "/" + FileStore.leaseLogDirectory))
            }
            for (title, path) in parts {
                logs += 1
                do {
                    if try !check(title: title, directory: path, options: options, write: write) { failing += 1 }
                } catch {
                    write("  \(title): \(error.message)")
                    return .cannotCheck
                }
            }
        }
        let verb = options.dryRun ? "would not open" : "do not open"
        write("\(stores.count) store(s), \(logs) log(s) checked in \(root); \(failing) \(verb)"
              + (failing > 0 && !options.repair && !options.dryRun ? " (--dry-run shows what --repair removes)" : ""))
        return failing == 0 ? .opens : .damaged
    }

    /// Reports one log and repairs it if asked; returns whether it opens now.
    private static func check(title: String, directory: String, options: StoreCheckOptions, write: (String) -> Void)
        throws(StreamsError) -> Bool
    {
        let inspection = try LogInspection.inspect(directory: directory)
        write("  \(title) \(directory): \(inspection.files.count) file(s) read")
        for file in inspection.files {
            let counts = "\(file.records) records in \(file.batches) committed batches"
            guard let damage = inspection.damage, damage.file == file.name else {
                let reserved = file.size > file.committedEnd
                    ? " (then \(file.size - file.committedEnd) bytes of zeros reserved for later batches)" : ""
                write("    \(file.name): intact, \(counts), \(file.committedEnd) bytes\(reserved)")
                continue
            }
            write("    \(file.name): \(file.size) bytes, \(counts) up to offset \(file.committedEnd), then damage at offset "
                  + "\(damage.offset): \(damage.reason)"
                  + (damage.openRepairsIt ? " (a torn tail: the open cuts it off)" : " (the open stops here)"))
        }
        if let damage = inspection.damage, !inspection.files.contains(where: { $0.name == damage.file }) {
            write("    \(damage.file): \(damage.reason) (the open stops here)")
        }
        for note in inspection.notes { write("    note: \(note)") }
        guard inspection.damage != nil else { return true }
        let repairing = (options.repair || options.dryRun) && !inspection.repairSteps.isEmpty
        if repairing {
            let prefix = options.dryRun ? "would " : ""
            for step in inspection.repairSteps { write("    repair: \(prefix)\(step)") }
        }
        guard options.repair, !options.dryRun else { return inspection.opens }
        try inspection.repair()
        let after = try LogInspection.inspect(directory: directory)
        write("    repaired: \(after.opens ? "the log opens" : "the log still does not open: \(after.damage?.reason ?? "")")")
        return after.opens
    }

    /// The stores of the data directory (subdirectories named by a store UUID), or just `only`.
    private static func storeDirectories(in root: String, only: WireUUID?) throws(StreamsError) -> [WireUUID] {
        let names: [String]
        do {
            names = try Posix.listDirectory(root)
        } catch {
            throw .storage("cannot read the data directory \(root): \(error)")
        }
        // The daemon names a store's directory by its UUID in the canonical (lowercase) form.
        let stores = names.compactMap { name in WireUUID(name).flatMap { $0.description == name ? $0 : nil } }
        if let only {
            guard stores.contains(only) else { throw .storage("the data directory \(root) has no store \(only)") }
            return [only]
        }
        return stores.sorted()
    }
}
