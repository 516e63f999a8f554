import CoordTestKit
import Foundation
import StreamCore
import Testing

/// The programs in Examples/, built as executables beside the tests, against a real daemon.
@Suite(.serialized)
struct ExamplesTests {
    @Test(.timeLimit(.minutes(1)))
    func theExamplesRunAgainstARealDaemon() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-examples")
        defer { scratch.remove() }
        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--storage", "memory"], logPath: scratch.path + "/d.log")
        defer { daemon.stop() }
        let url = "ws://" + (try await daemon.listeningAddress())

        // The observer stops once it has seen two workers; the workers stay for 3 s.
        async let observed = runProgram(try DaemonProcess.executable("ObserverExample"), [url, "2"])
        async let first = runProgram(try DaemonProcess.executable("WorkerExample"), [url, "3"])
        async let second = runProgram(try DaemonProcess.executable("WorkerExample"), [url, "3"])
        let (observer, one, two) = try await (observed, first, second)
        #expect(observer.status == 0 && observer.out.contains("2 workers [\"indexer\", \"indexer\"]"), "\(observer)")
        for worker in [one, two] {
            #expect(worker.status == 0 && worker.out.hasPrefix("registered worker ") && worker.out.hasSuffix("deregistered\n"), "\(worker)")
        }

        let partitions = try await runProgram(try DaemonProcess.executable("PartitionServiceExample"), [url, "3", "2"])
        #expect(partitions.status == 0, "\(partitions)")
        for partition in 0..<3 { #expect(partitions.out.contains("partition \(partition): fence ")) }
        let records = try await runCoordctl(["consume", "orders", "p1", "--server", url])
        #expect(records.out.contains("record 1") && records.out.contains("record 2"), "\(records)")

        async let a = runProgram(try DaemonProcess.executable("LeaderElectionExample"), [url, "alpha", "300"])
        async let b = runProgram(try DaemonProcess.executable("LeaderElectionExample"), [url, "beta", "300"])
        let (alpha, beta) = try await (a, b)
        #expect(alpha.status == 0 && beta.status == 0, "\(alpha) \(beta)")
        let fences = [alpha, beta].compactMap { run in
            run.out.split(separator: "\n").first { $0.contains("elected, fence ") }.flatMap { UInt64($0.split(separator: " ").last ?? "") }
        }
        #expect(fences.count == 2 && fences[0] != fences[1], "both led, one after the other: \(alpha.out) \(beta.out)")
        let decisions = try await runCoordctl(["consume", "scheduler", "decisions", "--server", url])
        #expect(decisions.out.contains("alpha leads") && decisions.out.contains("beta leads"), "\(decisions)")
    }
}
