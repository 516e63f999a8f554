import Inventory
import Testing

/// streamkit v1 §4.2 interval rules and coordd's `heartbeat_interval_ms` extension.
struct IntervalRulesTests {
    @Test(arguments: [
        (-5, 0), (0, 0), (1, 1), (2, 2), (150, 150), (300, 300), (301, 300), (7_200, 300), (.max, 300),
    ] as [(Int64, Int64)])
    func clampSecondsKeepsZeroAndClampsToOneThroughThreeHundred(input: Int64, expected: Int64) {
        #expect(InventoryLimits.clampSeconds(input) == expected)
    }

    /// The §4.2 examples: TTL = max(3 × R, 30 s), R = clamp(x) or 30 s when 0.
    @Test(arguments: [
        (1, 30_000), (10, 30_000), (15, 45_000), (30, 90_000), (7_200, 900_000), (0, 90_000), (-1, 90_000),
    ] as [(Int64, Int64)])
    func ttlFromHeartbeatSecondsMatchesStreamkitTable(seconds: Int64, expectedTTLMs: Int64) {
        let heartbeat = InventoryLimits.heartbeatPeriodMs(intervalSeconds: seconds)
        let renew = InventoryLimits.renewIntervalMs(heartbeatPeriodMs: heartbeat)
        #expect(InventoryLimits().ttlMs(renewIntervalMs: renew) == expectedTTLMs)
        #expect(InventoryLimits.ttlMs(renewIntervalMs: renew, floorMs: InventoryLimits.defaultTTLFloorMs) == expectedTTLMs)
    }

    @Test func zeroIntervalMeansNoHeartbeatsAndTheDefaultRenewInterval() {
        let heartbeat = InventoryLimits.heartbeatPeriodMs(intervalSeconds: 0)
        #expect(heartbeat == 0)
        #expect(InventoryLimits.renewIntervalMs(heartbeatPeriodMs: heartbeat) == 30_000)
    }

    @Test(arguments: [
        (0, 500, 500),                         // ms field alone
        (30, 500, 500),                        // ms field wins over seconds
        (0, 50, 100),                          // clamped up to minIntervalMs
        (0, 400_000, 300_000),                 // clamped down to 300 s
        (10, 0, 10_000),                       // 0 ms means absent: seconds rule
        (10, -7, 10_000),                      // negative ms means absent
        (10, nil, 10_000),                     // absent
        (0, nil, 0),                           // neither: no heartbeats
    ] as [(Int64, Int64?, Int64)])
    func heartbeatPeriodPrefersPositiveMillisecondField(seconds: Int64, ms: Int64?, expectedMs: Int64) {
        #expect(InventoryLimits.heartbeatPeriodMs(intervalSeconds: seconds, intervalMs: ms) == expectedMs)
    }

    @Test func lowerFloorAndMillisecondIntervalGiveFastFailureDetection() {
        let limits = InventoryLimits(ttlFloorMs: 1_000)
        let heartbeat = InventoryLimits.heartbeatPeriodMs(intervalSeconds: 0, intervalMs: 500)
        let renew = InventoryLimits.renewIntervalMs(heartbeatPeriodMs: heartbeat)
        #expect(renew == 500)
        #expect(limits.ttlMs(renewIntervalMs: renew) == 1_500)
    }

    @Test func defaultLimitsAreTheDocumentedValues() {
        let limits = InventoryLimits()
        #expect(InventoryLimits.defaultRenewIntervalMs == 30_000)
        #expect(InventoryLimits.minIntervalSeconds == 1)
        #expect(InventoryLimits.maxIntervalSeconds == 300)
        #expect(InventoryLimits.graceMultiplier == 3)
        #expect(InventoryLimits.minIntervalMs == 100)
        #expect(limits.ttlFloorMs == 30_000)
        #expect(limits.maxWorkers == 100_000)
        #expect(limits.maxMetadataEntries == 64)
        #expect(limits.maxMetadataBytes == 16 * 1_024)
        #expect(limits.historyLimit == 1_024)
        #expect(limits.sweepIntervalMs == 5_000)
    }
}
