/// coordd extension: a Produce whose messages each carry many records. The request has `Produce`'s
/// members (`space`, `segment`, the optional `fence`); every message after it is a bare ``RecordBatch``.
/// The records of all batches, in order, are what a `Produce` stream's records would be: committed in
/// chunks of up to `StoreLimits.chunkMaxRecords` records or `chunkMaxBytes` bytes, each committed chunk
/// answered with one cumulative `SegmentStatus`, the first failing chunk ending the stream with its error.
///
/// It spares each record a mux frame of its own (its header, its scan, its trip through the stream), which
/// was most of what a small record cost both sides. A separate request rather than batches on `Produce`:
/// a server that does not know batches refuses an unknown request before reading any record.
public struct ProduceBatches: RequestMessage, Equatable {
    public static let discriminator = "coordd://api/v1/produce_batches"
    /// Where the records go, and the fence the write must pass, as in a `Produce`.
    public var target: Produce

    /// Creates the request.
    public init(_ target: Produce) {
        self.target = target
    }

    public init(fields: JSONFields) throws(StreamsError) {
        target = try Produce(fields: fields)
    }

    public func write(to w: inout JSONWriter) {
        target.write(to: &w)
    }
}

/// coordd extension: one message of a `produce_batches` stream, records in the order they are to be
/// written, e.g. `{"records":[{"sequence":4,"payload":"aGVsbG8="},{"sequence":5,"payload":null}]}`. Its size
/// is bounded by the mux message limit (`WireLimits.maxMessageBytes`), as any message's is.
public struct RecordBatch: WireMessage, Equatable {
    /// The records, each as on a `Produce` stream.
    public var records: [Record]

    /// Creates a batch.
    public init(records: [Record]) {
        self.records = records
    }

    /// `records` must be there, as an array (empty or not): a record sent on this stream by mistake is no
    /// batch, and is refused rather than read as an empty one.
    public init(fields: JSONFields) throws(StreamsError) {
        records = try WireList.elements("records", of: fields, naming: "a record batch")
    }

    public func write(to w: inout JSONWriter) {
        WireList.write(records, as: "records", to: &w)
    }
}
