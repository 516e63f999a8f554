import CoordClient
import StreamCore

/// How coordctl shows things to people (tables, times, payloads) and to scripts (JSON lines).
enum CtlFormat {
    /// Columns padded to their widest cell with two spaces between them; the last column is not
    /// padded, so lines carry no trailing spaces.
    static func table(_ headers: [String], _ rows: [[String]]) -> String {
        let all = [headers] + rows
        var widths = [Int](repeating: 0, count: headers.count)
        for row in all {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        var out = ""
        for row in all {
            var line = ""
            for (i, cell) in row.enumerated() {
                line += cell
                if i < row.count - 1 { line += String(repeating: " ", count: widths[i] - cell.count + 2) }
            }
            out += line + "\n"
        }
        return out
    }

    /// `2026-01-01T00:00:00.123Z` for Unix epoch milliseconds.
    static func time(_ ms: Int64) -> String {
        UTCTimestamp.rfc3339(milliseconds: ms)
    }

    /// The payload as text when it is UTF-8 without control characters (tabs allowed), otherwise
    /// `base64:` and its base64, so every entry stays on one line.
    static func payload(_ bytes: [UInt8]?) -> String {
        guard let bytes else { return "" }
        if let text = String(validating: bytes, as: UTF8.self),
           !text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            return text
        }
        return "base64:" + Base64.encode(bytes)
    }

    /// `k=v,k2=v2` in key order, or `-`.
    static func metadata(_ map: [String: String]?) -> String {
        guard let map, !map.isEmpty else { return "-" }
        return map.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// One JSON line: the message exactly as it travels on the wire.
    static func jsonLine(_ message: some WireMessage) -> String {
        String(decoding: message.encoded(), as: UTF8.self) + "\n"
    }

    /// A JSON line of one string field, for names (`{"space":"orders"}`).
    static func jsonLine(_ fields: KeyValuePairs<String, String>) -> String {
        jsonLine(fields.map { (key: $0.key, value: $0.value) })
    }

    /// A JSON line of string fields, in order.
    static func jsonLine(_ fields: [(key: String, value: String)]) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        for (key, value) in fields {
            writer.key(escaping: key)
            writer.string(value)
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self) + "\n"
    }

    // MARK: Commands

    static func workers(_ inventory: WorkerInventory) -> String {
        guard !inventory.workers.isEmpty else { return "no workers registered\n" }
        let rows = inventory.workers.map { worker in
            [worker.workerID?.description ?? "-", time(worker.lastSeenAt), metadata(worker.metadata)]
        }
        return table(["WORKER", "LAST SEEN", "METADATA"], rows)
    }

    /// The header printed above each inventory with `--watch`.
    static func inventoryHeader(_ inventory: WorkerInventory) -> String {
        let count = inventory.workers.count
        return "revision \(inventory.revision ?? 0) at \(time(inventory.timestamp)): \(count) worker\(count == 1 ? "" : "s")\n"
    }

    /// The line saying a long-running command lost its connection or got it back.
    static func connection(_ change: ConnectionChange, json: Bool) -> String {
        switch change {
        case .lost(let error):
            return json ? jsonLine(["connection": "lost", "error": error.name, "message": error.message])
                        : "connection lost (\(error.name): \(error.message)); reconnecting\n"
        case .restored:
            return json ? jsonLine(["connection": "restored"]) : "connection back\n"
        }
    }

    /// The line saying the daemon restarted: revisions count again from 0 in a new epoch.
    static func newEpoch(_ epoch: UInt64, json: Bool) -> String {
        json ? jsonLine(["epoch": String(epoch), "note": "daemon restarted: revisions count from 0 again"])
             : "the daemon restarted (new epoch \(epoch)): revisions count from 0 again\n"
    }

    static func lease(_ verb: String, key: String, holder: String, _ result: LeaseResult) -> String {
        var line = "\(verb) \"\(key)\" for holder \(holder)"
        if let fence = result.fence { line += ", fence \(fence)" }
        if let expiresAt = result.expiresAt { line += ", expires \(time(expiresAt))" }
        if let ttlMs = result.ttlMs { line += " (ttl \(DurationText.format(milliseconds: ttlMs)))" }
        return line + "\n"
    }

    static func leases(_ leases: [LeaseInfo]) -> String {
        guard !leases.isEmpty else { return "no leases\n" }
        let rows = leases.map { lease in
            [lease.key, lease.holder, String(lease.fence),
             lease.expiresAt == 0 ? "with worker \(lease.workerID?.description ?? "-")" : time(lease.expiresAt),
             DurationText.format(milliseconds: lease.ttlMs)]
        }
        return table(["KEY", "HOLDER", "FENCE", "EXPIRES", "TTL"], rows)
    }

    static func entry(_ entry: Entry) -> String {
        "\(entry.segment) #\(entry.sequence)  \(time(entry.timestamp))  \(payload(entry.payload))\n"
    }

    static func produced(space: String, segment: String, count: Int, last: SegmentStatus?) -> String {
        guard let last, count > 0 else { return "nothing produced (standard input had no lines)\n" }
        let first = last.lastSequence - UInt64(count) + 1
        let range = count == 1 ? "sequence \(first)" : "sequences \(first)-\(last.lastSequence)"
        return "produced \(count) record\(count == 1 ? "" : "s") to \(space)/\(segment): \(range)\n"
    }

    static func status(_ status: StoreStatus) -> String {
        table(["FIELD", "VALUE"], [
            ["store", status.storeID?.description ?? "-"],
            ["storage", status.storage],
            ["spaces", String(status.spaces)],
            ["segments", String(status.segments)],
            ["entries", String(status.entries)],
            ["payload bytes", String(status.payloadBytes)],
            ["workers", String(status.workers)],
            ["observers", String(status.observers)],
            ["leases", String(status.leases)],
            ["inventory revision", String(status.inventoryRevision)],
        ])
    }
}
