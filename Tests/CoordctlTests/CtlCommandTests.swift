import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing

@testable import coordctl

/// Every command end to end against a node manager, for both store kinds.
struct CtlCommandTests {
    @Test(arguments: StoreKind.allCases)
    func producedLinesAreConsumedBackInOrder(_ kind: StoreKind) async throws {
        try await CtlHarness.with(kind) { harness in
            let first = await harness.run(["produce", "orders", "a"], stdin: ["one", "two", "three"])
            #expect(first.status == 0, "\(first.err)")
            #expect(first.out == "produced 3 records to orders/a: sequences 1-3\n")
            let four = Record(sequence: 4, payload: Array("four".utf8))
            try await harness.client.produce(space: "orders", segment: "a", records: [four])
            let second = await harness.run(["produce", "orders", "a"], stdin: ["five"])
            #expect(second.out == "produced 1 record to orders/a: sequence 5\n",
                    "numbering continues after another producer's head")

            let segment = await harness.run(["consume", "orders", "a"])
            #expect(segment.status == 0)
            #expect(segment.outLines.map { $0.split(separator: " ").first.map(String.init) ?? "" } == ["a", "a", "a", "a", "a"])
            let payloads = segment.outLines.map { String($0.split(separator: " ").last ?? "") }
            #expect(payloads == ["one", "two", "three", "four", "five"])
            #expect(segment.outLines.dropFirst().first?.hasPrefix("a #2  20") == true)

            let json = await harness.run(["consume", "orders", "a", "--json"])
            let entries = try json.outLines.map { try Entry(decoding: Array($0.utf8)) }
            #expect(entries.map(\.sequence) == [1, 2, 3, 4, 5])
            #expect(entries.map { String(decoding: $0.payload ?? [], as: UTF8.self) } == ["one", "two", "three", "four", "five"])
        }
    }

    @Test func aSpaceIsConsumedAcrossItsSegments() async throws {
        try await CtlHarness.with(.memory) { harness in
            _ = await harness.run(["produce", "orders", "a"], stdin: ["a1"])
            _ = await harness.run(["produce", "orders", "b"], stdin: ["b1"])
            try await Task.sleep(for: .milliseconds(5))  // a space read shows a millisecond once it has passed
            let result = await harness.run(["consume", "orders"])
            #expect(result.status == 0)
            #expect(Set(result.outLines.map { String($0.split(separator: " ").last ?? "") }) == ["a1", "b1"])
        }
    }

    @Test func produceJSONPrintsEachCommittedStatusAndAnEmptyInputProducesNothing() async throws {
        try await CtlHarness.with(.memory) { harness in
            let result = await harness.run(["--json", "produce", "s", "g"], stdin: ["x", "y"])
            let status = try SegmentStatus(decoding: Array(try #require(result.outLines.first).utf8))
            #expect(status.lastSequence == 2 && status.firstSequence == 1)
            let empty = await harness.run(["produce", "s", "g"])
            #expect(empty.status == 0)
            #expect(empty.out == "nothing produced (standard input had no lines)\n")
        }
    }

    @Test func aRemoteErrorIsPrintedWithItsNameAndExitsWith1() async throws {
        try await CtlHarness.with(.memory) { harness in
            let result = await harness.run(["produce", "$coordd.leases", "g"], stdin: ["x"])
            #expect(result.status == 1)
            #expect(result.out.isEmpty)
            #expect(result.err == "error: invalid_request: space names starting with \"$coordd.\" are reserved\n")
        }
    }

    @Test func usageErrorsExitWith2AndHelpWith0() async throws {
        try await CtlHarness.with(.memory) { harness in
            let bad = await harness.run(["lease", "renew", "k"])
            #expect(bad.status == 2)
            #expect(bad.err.hasPrefix("coordctl: lease renew needs --holder"))
            #expect(bad.err.contains("Run 'coordctl lease renew --help' for usage."))
            let help = await harness.run(["produce", "--help"])
            #expect(help.status == 0)
            #expect(help.out.hasPrefix("Usage: coordctl produce SPACE SEGMENT"))
        }
    }

    @Test func leasesAreAcquiredRenewedListedAndReleased() async throws {
        try await CtlHarness.with(.memory) { harness in
            let acquired = await harness.run(["lease", "acquire", "partition-1", "--holder", "me", "--ttl", "45s"])
            #expect(acquired.status == 0, "\(acquired.err)")
            #expect(acquired.out.hasPrefix("acquired \"partition-1\" for holder me, fence 1, expires 20"))
            #expect(acquired.out.hasSuffix("(ttl 45s)\n"))

            let contended = await harness.run(["lease", "acquire", "partition-1", "--holder", "you"])
            #expect(contended.status == 1)
            #expect(contended.err.hasPrefix(
                "error: lease_not_acquired: lease \"partition-1\" not acquired: held by me (fence 1) until 20"))

            let renewed = await harness.run(["lease", "renew", "partition-1", "--holder", "me", "--ttl", "90s"])
            #expect(renewed.status == 0, "\(renewed.err)")
            #expect(renewed.out.hasSuffix("(ttl 90s)\n"))
            let notHeld = await harness.run(["lease", "renew", "partition-1", "--holder", "you"])
            #expect(notHeld.status == 1)
            #expect(notHeld.err.hasPrefix("error: lease_not_renewed: lease \"partition-1\" not renewed for you: held by me"))
            let never = await harness.run(["lease", "renew", "nothing", "--holder", "you"])
            #expect(never.err == "error: lease_not_renewed: lease \"nothing\" not renewed for you: not held\n")

            _ = await harness.run(["lease", "acquire", "other", "--holder", "h2"])
            let all = await harness.run(["lease", "list"])
            try #require(all.outLines.count == 3, "\(all.out)")
            #expect(all.outLines[0].hasPrefix("KEY  "))
            #expect(all.outLines[1].hasPrefix("other  "))
            #expect(all.outLines[2].hasPrefix("partition-1  me  "))
            let prefixed = await harness.run(["lease", "list", "part", "--json"])
            let infos = try prefixed.outLines.map { try LeaseInfo(decoding: Array($0.utf8)) }
            #expect(infos.map(\.key) == ["partition-1"])
            #expect(infos.first?.ttlMs == 90_000)

            let wrongRelease = await harness.run(["lease", "release", "partition-1", "--holder", "you"])
            #expect(wrongRelease.status == 1)
            #expect(wrongRelease.err.hasPrefix("error: lease_not_released: "))
            let released = await harness.run(["lease", "release", "partition-1", "--holder", "me"])
            #expect(released.out == "released \"partition-1\" for holder me\n")
            let taken = await harness.run(["lease", "acquire", "partition-1", "--holder", "you", "--json"])
            let result = try LeaseResult(decoding: Array(try #require(taken.outLines.first).utf8))
            #expect(result.ok && (result.fence ?? 0) > 1, "a new holder gets a higher fencing token")
        }
    }

    @Test func aRequestTheDaemonFindsInvalidIsAnInvalidRequestNotARefusal() async throws {
        try await CtlHarness.with(.memory) { harness in
            for command in [["lease", "acquire", "k", "--holder", "me", "--ttl", "25h"],
                            ["lease", "renew", "k", "--holder", "me", "--ttl", "25h"]] {
                let result = await harness.run(command)
                #expect(result.status == 1)
                #expect(result.err == "error: invalid_request: ttl_seconds exceeds maximum of 86400\n", "\(command)")
                #expect(result.out.isEmpty)
            }
            let tooLong = await harness.run(["lease", "release", String(repeating: "k", count: 1_025), "--holder", "me"])
            #expect(tooLong.err == "error: invalid_request: lease key exceeds maximum of 1024 bytes\n")
            let leases = try await harness.client.leases()
            #expect(leases.isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aStoreIsCreatedOnceAndThenExists(_ kind: StoreKind) async throws {
        try await CtlHarness.with(kind) { harness in
            let store = WireUUID.random()
            let created = await harness.run(["store", "create", store.description])
            #expect(created.status == 0, "\(created.err)")
            #expect(created.out == "created store \(store)\n")
            let again = await harness.run(["store", "create", store.description, "--json"])
            #expect(again.status == 0)
            #expect(try StoreCreateResult(decoding: Array(again.out.utf8)) == StoreCreateResult(storeID: store, created: false))
            _ = try await harness.client.status()  // the default store, open as in a daemon
            let existing = await harness.run(["store", "create", WireUUID.defaultStore.description])
            #expect(existing.out == "store \(WireUUID.defaultStore) exists already\n")
        }
    }

    @Test func aGeneratedHolderIsPrinted() async throws {
        try await CtlHarness.with(.memory) { harness in
            let result = await harness.run(["lease", "acquire", "k"])
            let holder = try #require(result.out.split(separator: " ").dropFirst(4).first)
            #expect(WireUUID(holder.dropLast()) != nil, "the holder is a UUID: \(result.out)")
            let leases = try await harness.client.leases()
            #expect(leases.first.map { "\($0.holder)," } == String(holder))
        }
    }

    @Test func workersAreListedAsATableOrJSON() async throws {
        try await CtlHarness.with(.memory) { harness in
            let none = await harness.run(["workers"])
            #expect(none.out == "no workers registered\n")
            let id = WireUUID.random()
            let registration = try await harness.client.registerWorker(id: id, metadata: ["role": "indexer"])
            let table = await harness.run(["workers"])
            try #require(table.outLines.count == 2, "\(table.out)")
            #expect(table.outLines[1].hasPrefix(id.description + "  20"))
            #expect(table.outLines[1].hasSuffix("role=indexer"))
            let json = await harness.run(["workers", "--json"])
            let info = try WorkerInfo(decoding: Array(try #require(json.outLines.first).utf8))
            #expect(info.workerID == id)
            registration.close()
        }
    }

    @Test func aWorkerStaysRegisteredUntilInterrupted() async throws {
        try await CtlHarness.with(.memory) { harness in
            let id = WireUUID.random()
            let output = CapturedOutput()
            let worker = Task { await harness.run(["worker", "--id", id.description, "--meta", "role=indexer"], output: output) }
            #expect(await eventually(seconds: 30) { output.out == "registered worker \(id); interrupt (Ctrl-C) to deregister\n" })
            #expect(await eventually(seconds: 30) { (try? await harness.client.status().workers) == 1 })
            worker.cancel()
            let result = await worker.value
            #expect(result.status == 0, "\(result.err)")
            #expect(await eventually(seconds: 30) { (try? await harness.client.status().workers) == 0 },
                    "deregistered when interrupted")
        }
    }

    @Test func aWorkerReplacedByAnotherStreamExitsWithTheServersError() async throws {
        try await CtlHarness.with(.memory) { harness in
            let id = WireUUID.random()
            let output = CapturedOutput()
            let worker = Task { await harness.run(["worker", "--id", id.description], output: output) }
            #expect(await eventually(seconds: 30) { output.out.hasPrefix("registered worker") })
            let replacement = try await harness.client.registerWorker(id: id)
            let result = await worker.value
            #expect(result.status == 1)
            #expect(result.err == "error: worker_replaced: worker_id registered by another stream\n")
            replacement.close()
        }
    }

    @Test func watchingWorkersPrintsEveryNewInventoryUntilInterrupted() async throws {
        try await CtlHarness.with(.memory) { harness in
            let output = CapturedOutput()
            let watcher = Task { await harness.run(["workers", "--watch", "--json"], output: output) }
            #expect(await eventually(seconds: 30) { output.out.contains("\"revision\":0") })
            let registration = try await harness.client.registerWorker(id: .random())
            #expect(await eventually(seconds: 30) { output.out.contains("\"revision\":1") })
            registration.close()
            #expect(await eventually(seconds: 30) { output.out.contains("\"revision\":2") })
            watcher.cancel()
            let result = await watcher.value
            #expect(result.status == 0, "\(result.err)")
            let revisions = try result.outLines.map { try WorkerInventory(decoding: Array($0.utf8)).revision ?? 0 }
            #expect(revisions == revisions.sorted() && revisions.last == 2)
        }
    }

    @Test(arguments: [["consume", "live", "g", "--follow"], ["consume", "live", "--follow"]])
    func followingPrintsEntriesAsTheyAreCommitted(_ arguments: [String]) async throws {
        try await CtlHarness.with(.memory) { harness in
            let before = Record(sequence: 1, payload: Array("before".utf8))
            try await harness.client.produce(space: "live", segment: "g", records: [before])
            try await Task.sleep(for: .milliseconds(5))
            let output = CapturedOutput()
            let follower = Task { await harness.run(arguments, output: output) }
            #expect(await eventually(seconds: 30) { output.out.contains("before") })
            for n in 2...4 {
                let record = Record(sequence: UInt64(n), payload: Array("live-\(n)".utf8))
                try await harness.client.produce(space: "live", segment: "g", records: [record])
            }
            #expect(await eventually(seconds: 30) { output.out.contains("live-4") })
            follower.cancel()
            let result = await follower.value
            #expect(result.status == 0, "\(result.err)")
            let payloads = result.outLines.map { String($0.split(separator: " ").last ?? "") }
            #expect(payloads == ["before", "live-2", "live-3", "live-4"])
        }
    }

    @Test func spacesSegmentsAndStatusDescribeTheStore() async throws {
        try await CtlHarness.with(.memory) { harness in
            #expect(await harness.run(["spaces"]).out == "no spaces\n")
            _ = await harness.run(["produce", "orders", "b"], stdin: ["1"])
            _ = await harness.run(["produce", "orders", "a"], stdin: ["12345"])
            _ = await harness.run(["produce", "audit", "x"], stdin: ["1"])
            #expect(await harness.run(["spaces"]).out == "audit\norders\n")
            #expect(await harness.run(["spaces", "--json"]).out == "{\"space\":\"audit\"}\n{\"space\":\"orders\"}\n")
            #expect(await harness.run(["segments", "orders"]).out == "a\nb\n")
            let segmentsJSON = await harness.run(["segments", "orders", "--json"])
            #expect(segmentsJSON.outLines.first == "{\"space\":\"orders\",\"segment\":\"a\"}")
            #expect(await harness.run(["segments", "nothing"]).out == "no segments in nothing\n")

            let status = await harness.run(["status"])
            #expect(status.outLines.contains("store               \(WireUUID.defaultStore)"))
            #expect(status.outLines.contains("entries             3"))
            #expect(status.outLines.contains("payload bytes       7"))
            let json = await harness.run(["status", "--json"])
            let decoded = try StoreStatus(decoding: Array(try #require(json.outLines.first).utf8))
            #expect(decoded.spaces == 2 && decoded.segments == 3 && decoded.storage == "memory")
        }
    }

    @Test func theStoreOptionAddressesAnotherStore() async throws {
        try await CtlHarness.with(.memory) { harness in
            let other = WireUUID.random()
            _ = await harness.run(["produce", "s", "g", "--store", other.description], stdin: ["x"])
            #expect(await harness.run(["spaces"]).out == "no spaces\n")
            #expect(await harness.run(["spaces", "--store", other.description]).out == "s\n")
        }
    }
}
