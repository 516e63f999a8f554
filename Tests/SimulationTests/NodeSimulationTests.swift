import CoordTestKit
import Foundation
import Testing

/// The node simulation over a fixed set of seeds and a few fresh ones per run; `COORDD_SIM_SEED=N` runs
/// seed N alone (to replay a failure, whose report names its seed and step).
@Suite struct NodeSimulationTests {
    /// Seeds every run covers.
    static let fixedSeeds: [UInt64] = [1, 2, 3, 7, 42, 1_337, 65_537, 0xC00D_D5EE_D]
    /// Fresh seeds per run.
    static let randomSeedCount = 3

    /// The seeds of this run: the one from `COORDD_SIM_SEED` alone, else the fixed ones and fresh ones.
    static var seeds: [UInt64] {
        if let text = ProcessInfo.processInfo.environment["COORDD_SIM_SEED"], let seed = UInt64(text) { return [seed] }
        return fixedSeeds + (0..<randomSeedCount).map { _ in UInt64.random(in: 1...UInt64.max) }
    }

    @Test(arguments: seeds)
    func aSeededRunKeepsEveryInvariant(seed: UInt64) async throws {
        let simulation = try await NodeSimulation.start(seed: seed)
        try await simulation.run()
        await simulation.close()
        for violation in simulation.violations {
            Issue.record(Comment(rawValue: violation))
        }
        if !simulation.violations.isEmpty {
            print("node simulation: seed \(seed), the last steps before the failure:")
            for line in simulation.trace.suffix(12) { print("  \(line)") }
        } else {
            print("node simulation: seed \(seed), \(simulation.step) steps, clock advanced \(simulation.nowMs - 1_000_000) ms")
        }
    }

    /// The run is a function of its seed: replaying one repeats every step and every answer.
    @Test func aSeedReplaysTheSameRun() async throws {
        var traces: [[String]] = []
        for _ in 0..<2 {
            let simulation = try await NodeSimulation.start(seed: 20_261_204)
            try await simulation.run()
            await simulation.close()
            #expect(simulation.violations.isEmpty)
            traces.append(simulation.trace)
        }
        #expect(traces[0].count == 500 && traces[0] == traces[1])
    }
}
