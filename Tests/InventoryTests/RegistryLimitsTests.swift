import Inventory
import Testing

struct RegistryLimitsTests {
    @Test func rejectionMessagesNameTheLimit() {
        #expect(RegistryRejection.tooManyWorkers(limit: 100_000).message == "too many workers (limit 100000)")
        #expect(RegistryRejection.tooManyMetadataEntries(count: 65, limit: 64).message == "too many metadata entries: 65 (limit 64)")
        #expect(RegistryRejection.metadataTooLarge(bytes: 16_385, limit: 16_384).message == "metadata too large: 16385 bytes (limit 16384)")
        #expect(RegistryRejection.tooManyWorkers(limit: 3).description == "too many workers (limit 3)")
    }

    @Test func registrationBeyondMaxWorkersIsRejectedButReplacementIsNot() {
        var registry = WorkerRegistry(limits: InventoryLimits(maxWorkers: 2))
        let clock = ManualClock()
        _ = registry.register(id: worker(1), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(1), now: clock.now)
        _ = registry.register(id: worker(2), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(2), now: clock.now)
        let third = registry.register(
            id: worker(3), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(3), now: clock.now)
        #expect(third == .rejected(.tooManyWorkers(limit: 2)))
        #expect(third.rejection?.message == "too many workers (limit 2)")
        #expect(registry.current.revision == 2)
        #expect(registry.owner(of: worker(3)) == nil)

        let replacement = registry.register(
            id: worker(2), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(4), now: clock.now)
        #expect(replacement.replaced == StreamID(2))
        #expect(registry.count == 2)

        // Room again once a worker leaves.
        _ = registry.streamEnded(StreamID(1), now: clock.now)
        #expect(registry.register(id: worker(3), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(3), now: clock.now).change != nil)
    }

    @Test func metadataEntriesAtTheLimitAreAcceptedAndOneMoreIsRejected() {
        var registry = WorkerRegistry()
        let clock = ManualClock()
        var metadata: [String: String] = [:]
        for n in 0..<64 { metadata["k\(n)"] = "v" }
        #expect(registry.register(id: worker(1), metadata: metadata, renewIntervalMs: defaultRenewMs, stream: StreamID(1), now: clock.now).change != nil)
        metadata["one-more"] = "v"
        let result = registry.register(id: worker(2), metadata: metadata, renewIntervalMs: defaultRenewMs, stream: StreamID(2), now: clock.now)
        #expect(result == .rejected(.tooManyMetadataEntries(count: 65, limit: 64)))
        #expect(registry.count == 1)
    }

    @Test func metadataBytesCountKeysAndValuesInUTF8() {
        var registry = WorkerRegistry()
        let clock = ManualClock()
        // "é" is two UTF-8 bytes: "ab" + 8_191 × "é" is 2 + 16_382 = 16_384, exactly the limit; "abc" is one over.
        let value = String(repeating: "é", count: 8_191)
        #expect(registry.register(id: worker(1), metadata: ["ab": value], renewIntervalMs: defaultRenewMs, stream: StreamID(1), now: clock.now).change != nil)
        let result = registry.register(id: worker(2), metadata: ["abc": value], renewIntervalMs: defaultRenewMs, stream: StreamID(2), now: clock.now)
        #expect(result == .rejected(.metadataTooLarge(bytes: 16_385, limit: 16_384)))
        #expect(result.rejection?.message == "metadata too large: 16385 bytes (limit 16384)")
    }
}
