import CoordTestKit
import Inventory
import Testing

/// Payloads are strings naming what they encode, so a test can see which form was kept.
struct SubscriberMailboxTests {
    typealias Mailbox = SubscriberMailbox<String>

    func offer(_ revision: UInt64, to mailbox: inout Mailbox) {
        mailbox.offer(revision: revision, snapshot: "s\(revision)", delta: "d\(revision)")
    }

    /// Drains at most `limit` items (a bound so a faulty mailbox cannot loop forever).
    func drain(_ mailbox: inout Mailbox, limit: Int = 10_000) -> [MailboxItem<String>] {
        var items: [MailboxItem<String>] = []
        while items.count < limit, let item = mailbox.next() {
            items.append(item)
        }
        return items
    }

    @Test func snapshotModeKeepsOnlyTheLatest() {
        var mailbox = Mailbox(mode: .snapshots)
        mailbox.seed(revision: 3, snapshot: "s3")
        for revision in UInt64(4)...9 { offer(revision, to: &mailbox) }
        #expect(mailbox.queuedCount == 1)
        #expect(drain(&mailbox) == [.snapshot(revision: 9, payload: "s9")])
        #expect(mailbox.isEmpty)
    }

    @Test func staleSnapshotNeverOverwritesNewer() {
        var mailbox = Mailbox(mode: .snapshots)
        offer(7, to: &mailbox)
        offer(5, to: &mailbox)
        offer(7, to: &mailbox)
        #expect(mailbox.next() == .snapshot(revision: 7, payload: "s7"))
        // Already delivered 7: an older or equal revision is not queued again.
        offer(6, to: &mailbox)
        offer(7, to: &mailbox)
        #expect(mailbox.isEmpty)
        mailbox.seed(revision: 2, snapshot: "s2")
        #expect(mailbox.isEmpty)
        offer(8, to: &mailbox)
        #expect(mailbox.next() == .snapshot(revision: 8, payload: "s8"))
    }

    @Test func deltaModeQueuesConsecutiveDeltasInOrder() {
        var mailbox = Mailbox(mode: .deltas(maxBacklog: 8))
        mailbox.seed(revision: 10, snapshot: "s10")
        for revision in UInt64(11)...13 { offer(revision, to: &mailbox) }
        #expect(mailbox.queuedCount == 4)
        #expect(drain(&mailbox) == [
            .snapshot(revision: 10, payload: "s10"), .delta(revision: 11, payload: "d11"),
            .delta(revision: 12, payload: "d12"), .delta(revision: 13, payload: "d13"),
        ])
        offer(14, to: &mailbox)
        #expect(mailbox.next() == .delta(revision: 14, payload: "d14"))
        #expect(mailbox.resyncCount == 0)
    }

    @Test func deltaGapIsReplacedBySnapshot() {
        var mailbox = Mailbox(mode: .deltas(maxBacklog: 8))
        mailbox.seed(revision: 1, snapshot: "s1")
        offer(2, to: &mailbox)
        offer(4, to: &mailbox)   // 3 never arrived
        #expect(drain(&mailbox) == [.snapshot(revision: 4, payload: "s4")])
        #expect(mailbox.resyncCount == 1)
        offer(5, to: &mailbox)
        #expect(drain(&mailbox) == [.delta(revision: 5, payload: "d5")])
    }

    @Test func staleDeltaIsIgnored() {
        var mailbox = Mailbox(mode: .deltas(maxBacklog: 8))
        mailbox.seed(revision: 5, snapshot: "s5")
        offer(6, to: &mailbox)
        offer(6, to: &mailbox)
        offer(3, to: &mailbox)
        #expect(drain(&mailbox).map(\.revision) == [5, 6])
        #expect(mailbox.resyncCount == 0)
    }

    @Test func backlogOverflowBecomesSnapshotAndStaysBounded() {
        let maxBacklog = 4
        var mailbox = Mailbox(mode: .deltas(maxBacklog: maxBacklog))
        mailbox.seed(revision: 0, snapshot: "s0")
        for revision in UInt64(1)...1_002 {
            offer(revision, to: &mailbox)
            #expect(mailbox.queuedCount <= maxBacklog + 1)
        }
        // Every fifth offer found four deltas queued and resynced; 1_000 was the last such.
        #expect(drain(&mailbox) == [
            .snapshot(revision: 1_000, payload: "s1000"), .delta(revision: 1_001, payload: "d1001"),
            .delta(revision: 1_002, payload: "d1002"),
        ])
        #expect(mailbox.resyncCount == 200)
    }

    @Test func zeroBacklogAlwaysHoldsTheLatestSnapshot() {
        var mailbox = Mailbox(mode: .deltas(maxBacklog: 0))
        mailbox.seed(revision: 1, snapshot: "s1")
        offer(2, to: &mailbox)
        offer(3, to: &mailbox)
        #expect(drain(&mailbox) == [.snapshot(revision: 3, payload: "s3")])
    }

    @Test func unseededDeltaMailboxStartsWithSnapshot() {
        var mailbox = Mailbox(mode: .deltas(maxBacklog: 8))
        offer(42, to: &mailbox)
        #expect(drain(&mailbox) == [.snapshot(revision: 42, payload: "s42")])
        #expect(mailbox.resyncCount == 0)
    }

    @Test func resumeSeedsDeltasThenFollowsLiveOnes() {
        var mailbox = Mailbox(mode: .deltas(maxBacklog: 2))
        // Resuming may queue more than maxBacklog: the registry's history bounds it.
        mailbox.seed(since: 20, deltas: [(21, "d21"), (22, "d22"), (23, "d23")])
        #expect(mailbox.queuedCount == 3)
        #expect(mailbox.latestRevision == 23)
        #expect(drain(&mailbox).map(\.revision) == [21, 22, 23])
        offer(24, to: &mailbox)
        #expect(mailbox.next() == .delta(revision: 24, payload: "d24"))
    }

    @Test func resumeAtCurrentRevisionFollowsWithDeltas() {
        var mailbox = Mailbox(mode: .deltas(maxBacklog: 2))
        mailbox.seed(since: 7, deltas: [])
        #expect(mailbox.isEmpty)
        offer(7, to: &mailbox)
        #expect(mailbox.isEmpty)
        offer(8, to: &mailbox)
        #expect(drain(&mailbox) == [.delta(revision: 8, payload: "d8")])
    }

    @Test func revisionsReturnedStrictlyIncreaseUnderAnyOfferOrder() {
        // A fixed scramble of revisions 1...60 with repeats, offered to both modes.
        var generator = SplitMix64(seed: 0x5eed)
        for mode in [Mailbox.Mode.snapshots, .deltas(maxBacklog: 3)] {
            var mailbox = Mailbox(mode: mode)
            var returned: [UInt64] = []
            for _ in 0..<500 {
                offer(generator.next(below: 60) + 1, to: &mailbox)
                if generator.next(below: 3) == 0, let item = mailbox.next() {
                    returned.append(item.revision)
                }
            }
            returned += drain(&mailbox).map(\.revision)
            #expect(!returned.isEmpty)
            #expect(zip(returned, returned.dropFirst()).allSatisfy { $0 < $1 }, "mode \(mode): \(returned)")
        }
    }
}
