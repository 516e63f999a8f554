import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

/// The dashboard's assignments card in headless Chromium: hidden while the store has no group, then showing
/// a group's members and each partition's owner and fence.
@Suite(.serialized) struct DashboardAssignmentsTests {
    @Test(.enabled(if: DashboardBrowserTests.runs, "chromium is not installed here (apt-get install chromium); CI installs it and runs this"))
    func aGroupAppearsWithItsMembersOwnersAndFences() async throws {
        let scene = try await DashboardBrowserTests.Scene.make(token: nil)
        do {
            let browser = scene.browser
            try await browser.navigate(to: scene.pageURL)
            #expect(try await browser.waitUntil("document.getElementById('link').textContent === 'stream live'"))
            #expect(try await browser.evaluate("document.getElementById('assignments-card').hidden") == .bool(true),
                    "no card while the store has no group")

            var changes = scene.client.assignments(group: "indexers", partitions: 3, member: "indexer-1").makeAsyncIterator()
            var fences: [String: UInt64] = [:]
            while fences.count < 3, let change = try await changes.next() {
                if case .acquired(let partition) = change { fences[partition.partition] = partition.fence }
            }
            #expect(try await browser.waitUntil("!document.getElementById('assignments-card').hidden"), "the card appears")
            let group = #"#assignments [data-group="indexers"]"#
            #expect(try await browser.waitUntil("document.querySelector('\(group) tr[data-member=\"indexer-1\"]') !== null"))
            let chip = try await browser.evaluate("document.querySelector('\(group) [data-partition=\"2\"]')?.textContent ?? ''")
            #expect(chip == .string("2 → indexer-1 #\(fences["2"]!)"))
            #expect(try await browser.evaluate("window.cspViolations.join(', ')") == .string(""), "the page keeps to its own policy")
            _ = changes
        } catch {
            await scene.stop()
            throw error
        }
        await scene.stop()
    }
}
