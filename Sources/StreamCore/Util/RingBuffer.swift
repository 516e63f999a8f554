/// A growable FIFO queue with O(1) amortised push and pop at both ends of its use: push at the back,
/// pop at the front. The standard library has no deque, and queues of messages are everywhere here.
public struct RingBuffer<Element>: Sequence {
    private var storage: [Element?] = []
    /// Slots allocated by the first append: most queues (one per stream, per connection) stay empty
    /// for their whole life, so they allocate nothing until used.
    private let initialCapacity: Int
    private var head = 0
    /// Number of elements held.
    public private(set) var count = 0

    /// Creates an empty queue with room for `capacity` elements before it grows.
    public init(capacity: Int = 16) {
        initialCapacity = Swift.max(capacity, 1)
    }

    /// True when empty.
    public var isEmpty: Bool { count == 0 }

    /// The front element, if any.
    public var first: Element? { count == 0 ? nil : storage[head] }

    /// Appends at the back.
    public mutating func append(_ element: Element) {
        if count == storage.count { grow() }
        storage[(head + count) % storage.count] = element
        count += 1
    }

    /// Removes and returns the front element.
    public mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return element
    }

    /// Removes every element.
    public mutating func removeAll() {
        while popFirst() != nil {}
        head = 0
    }

    /// Removes the elements for which `predicate` is true, keeping the order of the rest.
    public mutating func removeAll(where predicate: (Element) -> Bool) {
        var kept = RingBuffer(capacity: Swift.max(storage.count, initialCapacity))
        while let element = popFirst() {
            if !predicate(element) { kept.append(element) }
        }
        self = kept
    }

    private mutating func grow() {
        var bigger: [Element?] = Array(repeating: nil, count: Swift.max(storage.count * 2, initialCapacity))
        for i in 0..<count { bigger[i] = storage[(head + i) % storage.count] }
        storage = bigger
        head = 0
    }

    /// Iterates front to back.
    public func makeIterator() -> AnyIterator<Element> {
        var index = 0
        return AnyIterator {
            guard index < count else { return nil }
            defer { index += 1 }
            return storage[(head + index) % storage.count]
        }
    }
}

extension RingBuffer: Sendable where Element: Sendable {}
