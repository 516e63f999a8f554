/// A first-in first-out queue with O(1) amortised append and removal at the front.
///
/// An array with a moving head: removed slots are reclaimed in one move once they are at least half
/// of the storage, so memory stays within twice the live count and no removal is O(n) on its own.
struct FIFOQueue<Element> {
    private var storage: [Element] = []
    private var head = 0

    /// Live elements.
    var count: Int { storage.count - head }

    /// True when no element is queued.
    var isEmpty: Bool { count == 0 }

    /// The oldest element.
    var first: Element? { head < storage.count ? storage[head] : nil }

    /// The newest element.
    var last: Element? { head < storage.count ? storage[storage.count - 1] : nil }

    /// The element `offset` places after the oldest one.
    subscript(offset: Int) -> Element {
        precondition(offset >= 0 && offset < count, "FIFOQueue: offset \(offset) out of 0..<\(count)")
        return storage[head + offset]
    }

    /// Adds an element at the back.
    mutating func append(_ element: Element) {
        storage.append(element)
    }

    /// Removes and returns the oldest element.
    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 32 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Removes every element.
    mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        head = 0
    }
}

extension FIFOQueue: Sendable where Element: Sendable {}
