import Foundation
import Testing

@testable import StreamCore

/// Kills a child process that appends to a log with SIGKILL at random moments, and checks that
/// every acknowledged append survives, per appender in order without gaps or duplicates, and that
/// every group is whole or absent.
struct LogCrashTests {
    static let appenders = 4
    static let cycles = 20

    /// The child binary: built with the tests, next to the test bundle.
    static func childPath() throws -> String {
        var candidates: [String] = []
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        candidates.append(bundleDirectory.appendingPathComponent("LogCrashChild").path)
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("LogCrashChild").path)
        let path = candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(path, "LogCrashChild not found in \(candidates)")
    }

    /// One record as the child writes it.
    struct ChildRecord: Equatable {
        var appender: Int
        var n: Int
        var index: Int
        var count: Int
    }

    static func decode(_ payload: [UInt8]) throws -> ChildRecord {
        try #require(payload.count >= 10)
        return payload.withUnsafeBytes { raw in
            ChildRecord(
                appender: Int(raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian),
                n: Int(raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian),
                index: Int(raw[8]), count: Int(raw[9]))
        }
    }

    /// The highest `n` acknowledged per appender, from the child's complete `ack` lines.
    static func acknowledged(in output: String) -> [Int: Int] {
        var highest: [Int: Int] = [:]
        for line in output.split(separator: "\n", omittingEmptySubsequences: true) {
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[0] == "ack", let appender = Int(parts[1]), let n = Int(parts[2]) else { continue }
            highest[appender] = max(highest[appender] ?? 0, n)
        }
        return highest
    }

    /// Checks the log's structure and returns the highest `n` present per appender.
    static func verify(_ replayed: [LogTests.Replayed], cycle: Int) throws -> [Int: Int] {
        var present: [Int: Int] = [:]
        var i = 0
        while i < replayed.count {
            let head = try decode(replayed[i].record.payload)
            try #require(head.index == 0 && head.count >= 1, "cycle \(cycle): group starts mid-way at \(replayed[i].position)")
            try #require(i + head.count <= replayed.count, "cycle \(cycle): group \(head) cut short")
            for k in 0..<head.count {
                let member = try decode(replayed[i + k].record.payload)
                try #require(
                    member == ChildRecord(appender: head.appender, n: head.n, index: k, count: head.count),
                    "cycle \(cycle): group \(head) is not whole and contiguous at \(replayed[i + k].position)")
            }
            let expected = (present[head.appender] ?? 0) + 1
            try #require(head.n == expected, "cycle \(cycle): appender \(head.appender) has \(head.n) after \(expected - 1)")
            present[head.appender] = head.n
            i += head.count
        }
        return present
    }

    @Test(.timeLimit(.minutes(5)))
    func acknowledgedAppendsSurviveSIGKILL() async throws {
        let child = try Self.childPath()
        try await LogTests.withScratchDirectory { root in
            let dir = root + "/log"
            var acknowledged: [Int: Int] = [:]
            var previouslyPresent: [Int: Int] = [:]
            var truncations = 0
            var generator = SystemRandomNumberGenerator()
            for cycle in 0..<Self.cycles {
                let outputPath = root + "/acks-\(cycle).txt"
                try #require(FileManager.default.createFile(atPath: outputPath, contents: nil))
                let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
                let process = Process()
                process.executableURL = URL(fileURLWithPath: child)
                process.arguments = [dir, String(Self.appenders)]
                process.standardOutput = output
                try process.run()
                let pid = process.processIdentifier
                do {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 50...300, using: &generator)))
                } catch {
                    kill(pid, SIGKILL)
                    process.waitUntilExit()
                    throw error
                }
                kill(pid, SIGKILL)
                process.waitUntilExit()
                try output.close()
                #expect(process.terminationReason == .uncaughtSignal, "cycle \(cycle): the child exited by itself")

                let text = String(decoding: try LogTests.contents(outputPath), as: UTF8.self)
                for (appender, n) in Self.acknowledged(in: text) { acknowledged[appender] = max(acknowledged[appender] ?? 0, n) }

                let (log, replayed) = try LogTests.open(dir)
                if log.recoveryReport.truncation != nil { truncations += 1 }
                await log.close()
                let present = try Self.verify(replayed, cycle: cycle)
                for (appender, n) in acknowledged {
                    #expect((present[appender] ?? 0) >= n, "cycle \(cycle): appender \(appender) acknowledged \(n), log has \(present[appender] ?? 0)")
                }
                for (appender, n) in previouslyPresent {
                    #expect((present[appender] ?? 0) >= n, "cycle \(cycle): appender \(appender) lost appends it had")
                }
                previouslyPresent = present
            }
            let total = acknowledged.values.reduce(0, +)
            #expect(total >= Self.cycles, "only \(total) appends acknowledged in \(Self.cycles) cycles")
            print("log crash test: \(total) acknowledged appends, \(truncations) torn tails cut in \(Self.cycles) cycles")
        }
    }
}
