import CoordClient
import CoordTestKit
import Foundation
import StreamCore
import Testing
import Transport

/// The real `coordd` binary and its data directory: one daemon per directory (a second is refused before
/// it opens a store, a SIGKILLed one leaves no stale lock), and `coordd check` repairing a store that
/// does not open.
@Suite(.serialized)
struct DataDirectoryTests {
    @Test(.timeLimit(.minutes(2)))
    func aSecondDaemonOnTheSameDirectoryIsRefusedAndAKilledOneLeavesNoLock() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-lock")
        defer { scratch.remove() }
        let data = scratch.path + "/data"
        let arguments = ["--listen", "127.0.0.1:0", "--data-dir", data]
        let first = try DaemonProcess(arguments: arguments, logPath: scratch.path + "/first.log")
        defer { first.stop() }
        let port = try DaemonShutdownTests.port(try await first.listeningAddress())
        let (client, provider) = try DaemonShutdownTests.client(port: port)
        let granted = try await client.acquire(key: "leader", holder: "first", ttl: .seconds(120))
        #expect(granted.ok)

        let second = try DaemonProcess(arguments: arguments, logPath: scratch.path + "/second.log")
        defer { second.stop() }
        let refused = try await second.waitForExit(seconds: 15)
        #expect(refused.status == 1, "\(second.logText)")
        let lines = second.logText.split(separator: "\n")
        let refusal = lines.filter { $0.contains("in use") }
        #expect(refusal.count == 1, "\(second.logText)")
        #expect(refusal.first?.contains(data) == true && refusal.first?.contains("pid \(first.pid)") == true, "\(second.logText)")
        #expect(!second.logText.contains("store open"), "refused before any store was opened: \(second.logText)")

        let check = try DaemonProcess(arguments: ["check", "--data-dir", data], logPath: scratch.path + "/check.log")
        defer { check.stop() }
        #expect(try await check.waitForExit(seconds: 15).status == 3, "\(check.logText)")
        #expect(check.logText.contains("pid \(first.pid)"), "\(check.logText)")

        let memory = try DaemonProcess(arguments: arguments + ["--storage", "memory"], logPath: scratch.path + "/memory.log")
        defer { memory.stop() }
        _ = try await memory.listeningAddress()
        memory.signal(SIGTERM)
        #expect(try await memory.waitForExit(seconds: 15).status == 0, "memory storage takes no lock: \(memory.logText)")

        #expect(try await httpGet(port: port, path: "/readyz") == (200, "ready\n"), "the first daemon serves on")
        #expect(try await client.leases().map(\.holder) == ["first"])
        await provider.close()

        first.signal(SIGKILL)
        _ = try await first.waitForExit(seconds: 15)
        let third = try DaemonProcess(arguments: arguments, logPath: scratch.path + "/third.log")
        defer { third.stop() }
        let (again, againProvider) = try DaemonShutdownTests.client(port: try DaemonShutdownTests.port(try await third.listeningAddress()))
        #expect(try await again.leases().map(\.fence) == [granted.fence ?? 0], "the lease survived the SIGKILL")
        await againProvider.close()
        third.signal(SIGTERM)
        #expect(try await third.waitForExit(seconds: 15).status == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func aStoreThatDoesNotOpenIsRepairedByCheckAndTheDaemonStartsAgain() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-check")
        defer { scratch.remove() }
        let data = scratch.path + "/data"
        let arguments = ["--listen", "127.0.0.1:0", "--data-dir", data]
        let first = try DaemonProcess(arguments: arguments, logPath: scratch.path + "/first.log")
        defer { first.stop() }
        let (client, provider) = try DaemonShutdownTests.client(port: try DaemonShutdownTests.port(try await first.listeningAddress()))
        for batch in 0..<20 {
            let records = (1...10).map { Record(sequence: UInt64(batch * 10 + $0), payload: Array("entry-\(batch)-\($0)".utf8)) }
            _ = try await client.produce(space: "orders", segment: "a", records: records)
        }
        await provider.close()
        first.signal(SIGTERM)
        #expect(try await first.waitForExit(seconds: 15).status == 0)

        let log = data + "/" + WireUUID.defaultStore.description + "/00000001.log"
        let size = try FileBytes.contents(log).count
        try FileBytes.flipByte(at: size / 2, in: log)
        let refused = try DaemonProcess(arguments: arguments, logPath: scratch.path + "/refused.log")
        defer { refused.stop() }
        #expect(try await refused.waitForExit(seconds: 15).status == 1)
        #expect(refused.logText.contains("cannot open the default store"), "\(refused.logText)")

        func check(_ extra: [String], _ name: String) async throws -> (Int32, String) {
            let process = try DaemonProcess(arguments: ["check", "--data-dir", data] + extra, logPath: scratch.path + "/\(name).log")
            defer { process.stop() }
            let status = try await process.waitForExit(seconds: 30).status
            return (status, process.logText)
        }
        let (status, report) = try await check([], "check")
        #expect(status == 1 && report.contains("00000001.log") && report.contains("(the open stops here)"), "\(report)")
        let (dryStatus, dryReport) = try await check(["--dry-run"], "dry-run")
        #expect(dryStatus == 1 && dryReport.contains("repair: would cut 00000001.log at offset"), "\(dryReport)")
        let (repairStatus, repairReport) = try await check(["--repair"], "repair")
        #expect(repairStatus == 0 && repairReport.contains("repaired: the log opens"), "\(repairReport)")

        let second = try DaemonProcess(arguments: arguments, logPath: scratch.path + "/second.log")
        defer { second.stop() }
        let (again, againProvider) = try DaemonShutdownTests.client(port: try DaemonShutdownTests.port(try await second.listeningAddress()))
        var sequences: [UInt64] = []
        for try await entry in again.consumeSegment(ConsumeSegment(space: "orders", segment: "a")) { sequences.append(entry.sequence) }
        #expect(!sequences.isEmpty && sequences.count < 200 && sequences == Array(1...UInt64(sequences.count)),
                "a prefix of whole batches is left: \(sequences.count) entries")
        #expect(sequences.count % 10 == 0)
        await againProvider.close()
        second.signal(SIGTERM)
        _ = try await second.waitForExit(seconds: 15)
    }
}
