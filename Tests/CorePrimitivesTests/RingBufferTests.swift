import CorePrimitives
import Testing

@Suite struct RingBufferTests {
    @Test func emptyUntilUsedThenFirstInFirstOut() {
        var queue = RingBuffer<Int>(capacity: 3)
        #expect(queue.isEmpty && queue.first == nil && queue.last == nil && queue.popFirst() == nil && queue.popLast() == nil)
        for value in 1...10 { queue.append(value) }
        #expect(queue.count == 10 && queue.first == 1 && queue.last == 10 && queue[4] == 5)
        #expect(Array(queue) == Array(1...10))
        #expect(queue.popFirst() == 1 && queue.popLast() == 10)
        queue.removeAll { $0 % 2 == 0 }
        #expect(Array(queue) == [3, 5, 7, 9])
        queue.removeAll()
        #expect(queue.isEmpty && Array(queue) == [])
    }

    /// Random appends and pops at both ends, prepends, filtered removals and clears, wrapping the ring many times,
    /// checked after every step against an array.
    @Test(arguments: [1, 2, 3, 42, 1_234, 99_999] as [UInt64])
    func agreesWithAnArray(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var queue = RingBuffer<Int>(capacity: Int(random.next() % 5))
        var reference: [Int] = []
        var next = 0
        for step in 0..<5_000 {
            switch random.next() % 10 {
            case 0...3:
                next += 1
                queue.append(next)
                reference.append(next)
            case 4:
                next += 1
                queue.prepend(next)
                reference.insert(next, at: 0)
            case 5, 6:
                #expect(queue.popFirst() == (reference.isEmpty ? nil : reference.removeFirst()), "seed \(seed) step \(step)")
            case 7:
                #expect(queue.popLast() == reference.popLast(), "seed \(seed) step \(step)")
            case 8:
                let modulus = Int(random.next() % 5) + 2
                queue.removeAll { $0 % modulus == 0 }
                reference.removeAll { $0 % modulus == 0 }
            default:
                if random.next() % 20 == 0 {
                    queue.removeAll()
                    reference.removeAll()
                }
            }
            #expect(queue.count == reference.count, "seed \(seed) step \(step)")
            #expect(queue.first == reference.first && queue.last == reference.last, "seed \(seed) step \(step)")
            if !reference.isEmpty {
                let offset = Int(random.next() % UInt64(reference.count))
                #expect(queue[offset] == reference[offset], "seed \(seed) step \(step)")
            }
            if step % 97 == 0 { #expect(Array(queue) == reference, "seed \(seed) step \(step)") }
        }
    }
}
