@testable import Coordinator
import CoordTestKit
import StreamCore
import Synchronization
import Testing

/// The store-open circuit (streamkit v1 §6.9): three failed opens in a row, then 30 s of fast refusals,
/// then one attempt again.
@Suite struct StoreOpenCircuitTests {
    let store = WireUUID(high: 1, low: 1)

    @Test func threeFailuresInARowRefuseTheStoreForTheWindowThenAllowOneAttempt() {
        var circuit = StoreOpenCircuit()
        for n in 0..<2 {
            circuit.failed(store, nowMs: Int64(n))
            #expect(circuit.refusal(for: store, nowMs: Int64(n)) == nil, "below the threshold every open is tried")
        }
        circuit.failed(store, nowMs: 1_000)
        #expect(circuit.refusal(for: store, nowMs: 1_000) == 30_000)
        #expect(circuit.refusal(for: store, nowMs: 30_999) == 1)
        #expect(circuit.refusal(for: store, nowMs: 31_000) == nil, "after the window: the half-open attempt")
        // A failed half-open attempt refuses for another window; a success forgets everything.
        circuit.failed(store, nowMs: 31_000)
        #expect(circuit.refusal(for: store, nowMs: 31_001) == 29_999)
        circuit.succeeded(store)
        #expect(circuit.refusal(for: store, nowMs: 31_001) == nil && circuit.count == 0)
        #expect(circuit.refusal(for: WireUUID(high: 2, low: 2), nowMs: 0) == nil, "other stores are not affected")
    }

    @Test func theLeastRecentlyFailedStoreIsForgottenBeyondTheBound() {
        var limits = StoreOpenCircuit.Limits()
        limits.maxEntries = 3
        var circuit = StoreOpenCircuit(limits: limits)
        for n in 0..<5 { circuit.failed(WireUUID(high: UInt64(n), low: 0), nowMs: Int64(n)) }
        #expect(circuit.count == 3)
        // Stores 0 and 1 were forgotten: three more failures are needed to refuse them.
        for n in 0..<3 { circuit.failed(WireUUID(high: 0, low: 0), nowMs: 10 + Int64(n)) }
        #expect(circuit.refusal(for: WireUUID(high: 0, low: 0), nowMs: 20) != nil)
        #expect(circuit.count == 3)
    }

    @Test func theManagerRefusesAStoreWhoseOpensKeepFailingWithoutTryingAgainUntilTheWindowPassed() async throws {
        let clock = ManualMonotonicClock(startMs: 0)
        var configuration = NodeConfiguration()
        configuration.monotonicClock = clock
        let attempts = Atomic<Int>(0)
        let manager = NodeManager(configuration: configuration) { _ throws(StreamsError) in
            attempts.add(1, ordering: .relaxed)
            throw StreamsError.storage("the data directory is damaged")
        }
        for _ in 0..<3 {
            await #expect(throws: StreamsError.storeUnavailable(because: "the data directory is damaged")) {
                _ = try await manager.node(for: store)
            }
        }
        var refusal: StreamsError?
        do { _ = try await manager.node(for: store) } catch { refusal = error }
        #expect(refusal?.name == "store_unavailable" && refusal?.code == .transient)
        #expect(refusal?.message == "store unavailable: its last 3 opens failed; next attempt in 30000 ms")
        #expect(attempts.load(ordering: .relaxed) == 3, "a refused stream does not try the open")
        clock.advance(byMs: 30_000)
        await #expect(throws: StreamsError.self) { _ = try await manager.node(for: store) }
        #expect(attempts.load(ordering: .relaxed) == 4, "one attempt after the window")
        await manager.close()
    }
}
