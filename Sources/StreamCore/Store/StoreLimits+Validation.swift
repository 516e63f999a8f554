/// The checks every store backend runs on a chunk before it takes it.
extension StoreLimits {
    /// Checks a chunk against these limits and the naming rules before any backend takes it: names
    /// present, not reserved (unless the store assigns the sequences), within ``maxNameBytes`` and free
    /// of NUL; payloads within ``maxPayloadBytes``; metadata within ``maxMetadataBytes``.
    public func validate(_ request: AppendRequest) throws(StreamsError) {
        guard !request.space.isEmpty, !request.segment.isEmpty else { throw .invalidProduceArgs }
        if request.sequencing == .expected && SystemSpace.isSystem(request.space) {
            throw .invalidRequest("space names starting with \"\(SystemSpace.prefix)\" are reserved")
        }
        for (what, name) in [("space", request.space), ("segment", request.segment)] {
            if name.utf8.count > maxNameBytes {
                throw .limitExceeded(
                    "\(what) name of \(name.utf8.count) bytes exceeds the limit of \(maxNameBytes) (StoreLimits.maxNameBytes)")
            }
            if name.utf8.contains(0) { throw .invalidRequest("\(what) name must not contain a NUL byte") }
        }
        let maxPayload = maxPayloadBytes
        for record in request.records {
            if let payload = record.payload, payload.count > maxPayload {
                throw .limitExceeded(
                    "record \(record.sequence): payload of \(payload.count) bytes exceeds the limit of \(maxPayload) "
                        + "(StoreLimits.maxPayloadBytes)")
            }
            if let metadata = record.metadata {
                let bytes = JSONWriter.stringMapCount(metadata)
                if bytes > maxMetadataBytes {
                    throw .limitExceeded(
                        "record \(record.sequence): metadata of \(bytes) bytes as JSON exceeds the limit of "
                            + "\(maxMetadataBytes) (StoreLimits.maxMetadataBytes)")
                }
            }
        }
    }
}
