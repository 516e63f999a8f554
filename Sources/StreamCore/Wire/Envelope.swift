/// The polymorphic envelope `{"$type": "<discriminator>", "content": {…}}` (streamkit v1 §1).
public enum Envelope {
    /// Every message type that may travel in an envelope, by discriminator: the 19 of streamkit v1 §1.5
    /// and coordd's extensions under `coordd://api/v1/…`.
    public static let registry: [String: any EnvelopedMessage.Type] = {
        let types: [any EnvelopedMessage.Type] = [
            ConsumeSegment.self, ConsumeSpace.self, Consume.self, GetSegments.self, GetSpaces.self,
            GetStatus.self, Peek.self, Produce.self, SegmentNotification.self, SegmentStatus.self,
            SubscribeToSegmentStatus.self, LeaseAcquire.self, LeaseRenew.self, LeaseRelease.self,
            LeaseResult.self, SubscribeWorkers.self, WorkerInventory.self, Presence.self,
            WorkerInventoryNotification.self,
            // coordd extensions
            WorkerInventoryDelta.self, LeaseList.self, StoreCreate.self, LeaseWatch.self,
            SubscribeAssignments.self, AssignmentList.self, LeaseRenewals.self, LeaseOperations.self,
            ProduceBatches.self,
        ]
        var registry: [String: any EnvelopedMessage.Type] = [:]
        for type in types {
            precondition(registry[type.discriminator] == nil, "discriminator \(type.discriminator) registered twice")
            registry[type.discriminator] = type
        }
        return registry
    }()

    /// Decodes an envelope, with the error texts of streamkit v1 §1.2.
    public static func decode(_ bytes: some Collection<UInt8>) throws(StreamsError) -> any EnvelopedMessage {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw .malformed(error.message)
        }
        guard case .object(let members) = value else {
            throw .malformed("envelope must be a JSON object, got \(value.typeName)")
        }
        guard let typeValue = members["$type"] else { throw .malformed("missing $type field in envelope") }
        guard case .string(let discriminator) = typeValue else {
            throw .malformed("invalid $type format: expected a string, got \(typeValue.typeName)")
        }
        guard !discriminator.isEmpty else { throw .malformed("empty $type discriminator") }
        guard let type = registry[discriminator] else {
            throw .malformed("type \"\(InputExcerpt.excerpt(discriminator))\" is not registered")
        }
        guard let content = members["content"], content != .null else {
            throw .malformed("missing content for type: \"\(InputExcerpt.excerpt(discriminator))\"")
        }
        do {
            return try type.init(fields: JSONFields(content))
        } catch {
            throw .malformed("failed to unmarshal content for \"\(discriminator)\": \(error.message)")
        }
    }

    /// Decodes an envelope that must hold a `M`.
    public static func decode<M: EnvelopedMessage>(_ type: M.Type, from bytes: some Collection<UInt8>) throws(StreamsError) -> M {
        let message = try decode(bytes)
        guard let typed = message as? M else {
            throw .malformed("expected \(M.discriminator), got \(Swift.type(of: message).discriminator)")
        }
        return typed
    }
}
