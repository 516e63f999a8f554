import CorePrimitives
import Testing

/// A deadline with a unique ticket, as the heap's owners keep them.
private struct Item: Comparable, Hashable {
    var deadline: Int
    var ticket: Int

    static func < (lhs: Item, rhs: Item) -> Bool { (lhs.deadline, lhs.ticket) < (rhs.deadline, rhs.ticket) }
}

@Suite struct MinHeapTests {
    @Test func popsInOrderWithTicketsBreakingTies() {
        var heap = MinHeap<Item>()
        for (ticket, deadline) in [5, 3, 9, 3, 1, 5].enumerated() { heap.push(Item(deadline: deadline, ticket: ticket)) }
        var popped: [Item] = []
        while let item = heap.popMin() { popped.append(item) }
        #expect(popped.map(\.ticket) == [4, 1, 3, 0, 5, 2])
        #expect(heap.isEmpty && heap.popMin() == nil && heap.min == nil)
    }

    @Test func bottomUpBuildMatchesPushes() {
        var random = SplitMix64(seed: 7)
        let items = (0..<500).map { Item(deadline: Int(random.next() % 50), ticket: $0) }
        var built = MinHeap(items)
        var popped: [Item] = []
        while let item = built.popMin() { popped.append(item) }
        #expect(popped == items.sorted())
    }

    @Test func staleEntriesAreSkippedAtTheTopAndDroppedByCompaction() {
        var heap = MinHeap((0..<10).map { Item(deadline: $0, ticket: $0) })
        let live: Set<Int> = [3, 7]
        #expect(heap.minLive { live.contains($0.ticket) } == Item(deadline: 3, ticket: 3))
        #expect(heap.count == 7)
        #expect(heap.popMinLive(where: { live.contains($0.ticket) }, ifDue: { $0.deadline <= 2 }) == nil)
        #expect(heap.popMinLive(where: { live.contains($0.ticket) }, ifDue: { $0.deadline <= 3 })?.ticket == 3)
        // 6 entries, 1 live: over 2 × 1 + 3, so it compacts to the live one.
        #expect(heap.compact(liveCount: 1, slack: 3) { live.contains($0.ticket) })
        #expect(heap.count == 1)
        #expect(!heap.compact(liveCount: 1, slack: 3) { _ in false })
    }

    /// Random pushes, renewals (a new ticket for a key, the old entry left behind), removals, due pops and
    /// compactions, checked after every step against a dictionary of each key's current deadline.
    @Test(arguments: [1, 2, 3, 42, 1_234, 99_999] as [UInt64])
    func lazyDeletionAgreesWithAReferenceTable(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var heap = MinHeap<Item>()
        var current: [Int: Item] = [:]  // key → its live entry
        var keyOfTicket: [Int: Int] = [:]
        var nextTicket = 0
        var now = 0
        func isLive(_ item: Item) -> Bool { keyOfTicket[item.ticket].map { current[$0] == item } ?? false }
        for step in 0..<3_000 {
            let key = Int(random.next() % 40)
            switch random.next() % 6 {
            case 0, 1:
                nextTicket += 1
                let item = Item(deadline: now + Int(random.next() % 100), ticket: nextTicket)
                current[key] = item
                keyOfTicket[nextTicket] = key
                heap.push(item)
            case 2:
                current[key] = nil
            case 3:
                now += Int(random.next() % 20)
                var popped: [Item] = []
                while let item = heap.popMinLive(where: isLive, ifDue: { $0.deadline <= now }) {
                    popped.append(item)
                    current[keyOfTicket[item.ticket]!] = nil
                }
                #expect(popped == popped.sorted(), "seed \(seed) step \(step)")
                #expect(current.values.allSatisfy { $0.deadline > now }, "seed \(seed) step \(step)")
            case 4:
                heap.compact(liveCount: current.count, slack: 8, keeping: isLive)
                #expect(heap.count <= 2 * current.count + 8, "seed \(seed) step \(step)")
            default:
                #expect(heap.minLive(where: isLive) == current.values.min(), "seed \(seed) step \(step)")
            }
            #expect(Set(heap.unorderedElements.filter(isLive)) == Set(current.values), "seed \(seed) step \(step)")
        }
    }
}
