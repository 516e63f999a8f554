// Checkpoint records, version 1. Integers are little-endian; a string is a UInt32 byte count then UTF-8,
// as in the event encoding, whose leading byte they share (version in the high nibble, kind in the low):
//
//   header   0x14, highest token UInt64, lease count UInt64
//   lease    0x15, key, holder, token UInt64, ttlMs Int64 (the TTL recovery restores it with)
//
// Kinds 4 and 5 follow the events' 1 to 3, so no record of one kind can be read as the other.

private let headerByte: UInt8 = 0x14
private let leaseByte: UInt8 = 0x15

extension LeaseEngine {
    /// The whole table as checkpoint records: a header with the token counter, then one record per lease,
    /// in no particular order. Replaying them (``recover(checkpoint:events:now:limits:)``) gives exactly the
    /// state replaying every event up to here would give: the same leases with the same holders, tokens and
    /// logged TTLs, and the same `highestToken`. Leases bound to a worker are written as TTL leases, as a
    /// restart restores them anyway; expired ones that no tick has removed yet are written too, as their
    /// events would have restored them.
    public func checkpointRecords() -> [[UInt8]] {
        var records: [[UInt8]] = []
        records.reserveCapacity(leases.count + 1)
        var header = [headerByte]
        appendInteger(highestToken, to: &header)
        appendInteger(UInt64(leases.count), to: &header)
        records.append(header)
        for (leaseKey, record) in leases {
            var bytes = [leaseByte]
            bytes.reserveCapacity(1 + 8 + leaseKey.string.utf8.count + record.holder.utf8.count + 16)
            appendString(leaseKey.string, to: &bytes)
            appendString(record.holder, to: &bytes)
            appendInteger(record.token, to: &bytes)
            appendInteger(UInt64(bitPattern: record.loggedTTLMs), to: &bytes)
            records.append(bytes)
        }
        return records
    }

    /// Rebuilds an engine from a checkpoint (nil: none was taken) and the events logged after it, as
    /// ``recover(from:now:limits:)`` does from events alone: every lease comes back with `now` + its logged
    /// TTL, and tokens continue from the highest in the checkpoint or the events.
    public static func recover(
        checkpoint: [[UInt8]]?, events: some Sequence<LeaseEvent>, now: Int64, limits: LeaseLimits = LeaseLimits()
    ) throws(LeaseCheckpointDecodingError) -> LeaseEngine {
        var engine = LeaseEngine(limits: limits)
        if let checkpoint { try engine.restore(checkpoint) }
        engine.replay(events)
        engine.finishRecovery(now: now)
        return engine
    }

    private mutating func restore(_ checkpoint: [[UInt8]]) throws(LeaseCheckpointDecodingError) {
        guard let first = checkpoint.first, first.first == headerByte else { throw .missingHeader }
        let (highest, count) = try readRecord(first) { reader throws(LeaseEventDecodingError) in
            (try reader.uint64(), try reader.uint64())
        }
        highestToken = highest
        guard count == UInt64(checkpoint.count - 1) else {
            throw .countMismatch(announced: count, found: checkpoint.count - 1)
        }
        for bytes in checkpoint.dropFirst() {
            guard bytes.first == leaseByte else { throw .unknownRecord(bytes.first ?? 0) }
            let (key, holder, token, ttlMs) = try readRecord(bytes) { reader throws(LeaseEventDecodingError) in
                (try reader.string(), try reader.string(), try reader.uint64(), Int64(bitPattern: try reader.uint64()))
            }
            guard ttlMs > 0 else { throw .nonPositiveTTL(ttlMs) }
            guard token <= highestToken else { throw .tokenAboveCounter(token: token, highest: highestToken) }
            leases[LeaseKey(key)] = LeaseRecord(
                holder: holder, token: token, ttlMs: ttlMs, loggedTTLMs: ttlMs, deadline: nil, boundTo: nil)
        }
    }
}

/// Reads the fields of one checkpoint record after its leading byte with `fields`; the record must hold
/// nothing more. The reader's errors become checkpoint errors.
private func readRecord<T>(
    _ bytes: [UInt8], _ fields: (inout ByteReader) throws(LeaseEventDecodingError) -> T
) throws(LeaseCheckpointDecodingError) -> T {
    var reader = ByteReader(bytes)
    let value: T
    do throws(LeaseEventDecodingError) {
        _ = try reader.byte()
        value = try fields(&reader)
    } catch {
        throw error == .invalidUTF8 ? .invalidUTF8 : .malformed
    }
    guard reader.remaining == 0 else { throw .malformed }
    return value
}

/// Why checkpoint records cannot be restored. Recovery never traps on them.
public enum LeaseCheckpointDecodingError: Error, Sendable, Hashable {
    /// The first record is not a checkpoint header.
    case missingHeader
    /// The header announced another number of leases than the checkpoint holds.
    case countMismatch(announced: UInt64, found: Int)
    /// A record after the header is not a lease record.
    case unknownRecord(UInt8)
    /// A record ended early or holds bytes after its fields.
    case malformed
    /// A string is not valid UTF-8.
    case invalidUTF8
    /// A lease with a TTL that is not positive.
    case nonPositiveTTL(Int64)
    /// A lease token above the checkpoint's own counter: the counter could hand it out again.
    case tokenAboveCounter(token: UInt64, highest: UInt64)
}
