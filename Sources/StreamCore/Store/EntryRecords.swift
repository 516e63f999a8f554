/// How the file store lays a chunk out in the log: one chunk-header record, then one record per entry,
/// all in one atomic log group. Replay reads only the headers' fields and the entries' positions, so
/// reopening does not decode payloads.
///
/// Header (kind 1): version u8, space (u16 length + UTF-8), segment (u16 + UTF-8), first sequence u64,
/// entry count u32, timestamp i64, TRX id (16 bytes), TRX number u64.
/// Entry (kind 2): flags u8 (bit 0 payload present, bit 1 metadata present), payload (u32 length + bytes),
/// metadata count u32, then each key and value as u32 length + UTF-8. Integers are little-endian.
enum EntryRecords {
    static let chunkKind: UInt8 = 1
    static let entryKind: UInt8 = 2
    static let version: UInt8 = 1

    static func chunkHeader(_ chunk: PreparedChunk) -> LogRecord {
        let first = chunk.entries[0]
        var out: [UInt8] = [version]
        appendString16(first.space, to: &out)
        appendString16(first.segment, to: &out)
        appendInteger(first.sequence, to: &out)
        appendInteger(UInt32(chunk.entries.count), to: &out)
        appendInteger(first.timestamp, to: &out)
        out.append(contentsOf: (first.trx.id ?? .nil).bytes)
        appendInteger(first.trx.number, to: &out)
        return LogRecord(kind: chunkKind, payload: out)
    }

    static func entry(_ entry: Entry) -> LogRecord {
        var out: [UInt8] = []
        out.reserveCapacity(9 + (entry.payload?.count ?? 0))
        out.append((entry.payload == nil ? 0 : 1) | (entry.metadata == nil ? 0 : 2))
        let payload = entry.payload ?? []
        appendInteger(UInt32(payload.count), to: &out)
        out.append(contentsOf: payload)
        let metadata = entry.metadata ?? [:]
        appendInteger(UInt32(metadata.count), to: &out)
        for key in metadata.keys.sorted() {
            appendString32(key, to: &out)
            appendString32(metadata[key] ?? "", to: &out)
        }
        return LogRecord(kind: entryKind, payload: out)
    }

    /// Decodes a chunk header; throws on anything malformed (never traps).
    static func decodeChunkHeader(_ bytes: UnsafeRawBufferPointer) throws(StreamsError) -> (RestoredChunk, count: Int) {
        var reader = ByteReader(bytes)
        guard try reader.byte() == version else { throw reader.failure("unknown chunk header version") }
        let space = try reader.string(lengthBytes: 2)
        let segment = try reader.string(lengthBytes: 2)
        let firstSequence = try reader.integer(UInt64.self)
        let count = Int(try reader.integer(UInt32.self))
        let timestamp = try reader.integer(Int64.self)
        let id = WireUUID(bytes: try reader.bytes(16))
        let number = try reader.integer(UInt64.self)
        let trx = TRX(id: id.flatMap { $0.isNil ? nil : $0 }, number: number)
        return (RestoredChunk(space: space, segment: segment, firstSequence: firstSequence, timestamp: timestamp, trx: trx), count)
    }

    /// The payload size of an entry record, without copying the payload.
    static func payloadSize(_ bytes: UnsafeRawBufferPointer) throws(StreamsError) -> Int {
        var reader = ByteReader(bytes)
        _ = try reader.byte()
        return Int(try reader.integer(UInt32.self))
    }

    /// Decodes an entry record's payload and metadata.
    static func decodeEntry(_ bytes: [UInt8]) throws(StreamsError) -> (payload: [UInt8]?, metadata: [String: String]?) {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(StreamsError) in try decodeEntry(raw) }
        }.get()
    }

    private static func decodeEntry(_ raw: UnsafeRawBufferPointer) throws(StreamsError) -> (payload: [UInt8]?, metadata: [String: String]?) {
        var reader = ByteReader(raw)
        let flags = try reader.byte()
        let payload = try reader.bytes(Int(try reader.integer(UInt32.self)))
        let count = Int(try reader.integer(UInt32.self))
        var metadata: [String: String] = [:]
        for _ in 0..<count {
            let key = try reader.string(lengthBytes: 4)
            metadata[key] = try reader.string(lengthBytes: 4)
        }
        return (flags & 1 != 0 ? payload : nil, flags & 2 != 0 ? metadata : nil)
    }

    private static func appendInteger<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func appendString16(_ text: String, to out: inout [UInt8]) {
        appendInteger(UInt16(text.utf8.count), to: &out)
        out.append(contentsOf: text.utf8)
    }

    private static func appendString32(_ text: String, to out: inout [UInt8]) {
        appendInteger(UInt32(text.utf8.count), to: &out)
        out.append(contentsOf: text.utf8)
    }
}

/// Bounds-checked little-endian reading of a record.
struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func failure(_ what: String) -> StreamsError {
        .storage("malformed store record at byte \(offset): \(what)")
    }

    mutating func byte() throws(StreamsError) -> UInt8 {
        guard offset < bytes.count else { throw failure("truncated") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws(StreamsError) -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else { throw failure("truncated") }
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + size])) }
        offset += size
        return T(littleEndian: value)
    }

    mutating func bytes(_ count: Int) throws(StreamsError) -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw failure("truncated") }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func string(lengthBytes: Int) throws(StreamsError) -> String {
        let length = lengthBytes == 2 ? Int(try integer(UInt16.self)) : Int(try integer(UInt32.self))
        let raw = try bytes(length)
        guard let text = String(validating: raw, as: UTF8.self) else { throw failure("invalid UTF-8") }
        return text
    }
}
