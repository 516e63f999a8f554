import CoordTestKit
import Foundation
import StreamCore
import Testing

/// The assigned-partitions example against a real daemon: two members share the partitions, and each
/// partition's records are written under fences that only grow.
@Suite(.serialized)
struct AssignmentExampleTests {
    @Test(.timeLimit(.minutes(1)))
    func twoMembersShareThePartitions() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-assign-example")
        defer { scratch.remove() }
        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--storage", "memory"], logPath: scratch.path + "/d.log")
        defer { daemon.stop() }
        let url = "ws://" + (try await daemon.listeningAddress())
        let program = try DaemonProcess.executable("AssignedPartitionsExample")
        // beta outlives the group's release bound (5 s), so it gets its half even from an alpha slowed down
        // by a loaded machine.
        async let first = runProgram(program, [url, "alpha", "4", "10"])
        try await Task.sleep(for: .seconds(1))
        async let second = runProgram(program, [url, "beta", "4", "7"])
        let (alpha, beta) = try await (first, second)
        #expect(alpha.status == 0 && beta.status == 0, "\(alpha) \(beta)")
        #expect(alpha.out.components(separatedBy: "alpha owns partition").count - 1 >= 4, "alpha started with every partition: \(alpha.out)")
        let alphaFences = Self.fences(alpha.out)
        let betaFences = Self.fences(beta.out)
        #expect(betaFences.count == 2, "beta got its half: \(beta.out)")
        for (partition, fence) in betaFences {
            #expect(fence > (alphaFences[partition] ?? 0), "a moved partition takes a higher fence")
        }
        #expect(alpha.out.hasSuffix("alpha stopped\n") && beta.out.hasSuffix("beta stopped\n"))
    }

    /// Partition → fence from the lines `<member> owns partition <p>: fence <f>`.
    static func fences(_ output: String) -> [String: UInt64] {
        var fences: [String: UInt64] = [:]
        for line in output.split(separator: "\n") where line.contains(" owns partition ") {
            let words = line.split(separator: " ")
            guard words.count == 6, let fence = UInt64(words[5]) else { continue }
            fences[String(words[3].dropLast())] = fence
        }
        return fences
    }
}
