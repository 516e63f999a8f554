/// A growable first-in first-out queue: append at the back, pop at the front, both O(1) amortised, and
/// read any position from the front. The standard library has no deque, and queues of messages, waiters
/// and history are everywhere here; this is the one they all use.
///
/// Storage is a power-of-two ring, so an index wraps with a mask, and it is allocated on the first
/// append: most queues (one per stream, per connection) stay empty for their whole life. It never
/// shrinks below its high-water mark; callers bound it with their own named limit.
public struct RingBuffer<Element> {
    @usableFromInline var storage: [Element?]
    @usableFromInline var head = 0
    @usableFromInline var held = 0
    @usableFromInline let initialCapacity: Int

    /// An empty queue with room for `capacity` elements (rounded up to a power of two) once it is used.
    @inlinable
    public init(capacity: Int = 16) {
        storage = []
        var rounded = 1
        while rounded < capacity { rounded *= 2 }
        initialCapacity = rounded
    }

    /// Number of elements held.
    @inlinable
    public var count: Int { held }

    /// True when empty.
    @inlinable
    public var isEmpty: Bool { count == 0 }

    /// The front (oldest) element.
    @inlinable
    public var first: Element? { count == 0 ? nil : storage[head] }

    /// The back (newest) element.
    @inlinable
    public var last: Element? { count == 0 ? nil : storage[(head + count - 1) & (storage.count - 1)] }

    /// The element `offset` places behind the front.
    @inlinable
    public subscript(offset: Int) -> Element {
        precondition(offset >= 0 && offset < count, "RingBuffer: offset \(offset) out of 0..<\(count)")
        // Every slot within `count` of the head holds an element.
        return storage[(head + offset) & (storage.count - 1)]!
    }

    /// Appends at the back.
    @inlinable
    public mutating func append(_ element: Element) {
        if count == storage.count { grow() }
        storage[(head + count) & (storage.count - 1)] = element
        held += 1
    }

    /// Inserts at the front (puts back an element just popped).
    @inlinable
    public mutating func prepend(_ element: Element) {
        if count == storage.count { grow() }
        head = (head - 1) & (storage.count - 1)
        storage[head] = element
        held += 1
    }

    /// Removes and returns the front element.
    @inlinable
    public mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) & (storage.count - 1)
        held -= 1
        return element
    }

    /// Removes and returns the back element.
    @inlinable
    public mutating func popLast() -> Element? {
        guard held > 0 else { return nil }
        let index = (head + held - 1) & (storage.count - 1)
        let element = storage[index]
        storage[index] = nil
        held -= 1
        return element
    }

    /// Removes every element, keeping the storage.
    @inlinable
    public mutating func removeAll() {
        for offset in 0..<count { storage[(head + offset) & (storage.count - 1)] = nil }
        head = 0
        held = 0
    }

    /// Removes the elements for which `predicate` is true, keeping the order of the rest, in O(n).
    @inlinable
    public mutating func removeAll(where predicate: (Element) -> Bool) {
        let before = count
        var kept = 0
        for offset in 0..<before {
            let from = (head + offset) & (storage.count - 1)
            let element = storage[from]!
            storage[from] = nil
            if !predicate(element) {
                storage[(head + kept) & (storage.count - 1)] = element
                kept += 1
            }
        }
        held = kept
    }

    @usableFromInline
    mutating func grow() {
        let capacity = Swift.max(storage.count * 2, initialCapacity)
        var bigger = [Element?](repeating: nil, count: capacity)
        for offset in 0..<count { bigger[offset] = storage[(head + offset) & (storage.count - 1)] }
        storage = bigger
        head = 0
    }
}

extension RingBuffer: Sequence {
    /// Iterates front to back.
    public struct Iterator: IteratorProtocol {
        @usableFromInline let buffer: RingBuffer
        @usableFromInline var offset = 0

        @inlinable
        init(_ buffer: RingBuffer) { self.buffer = buffer }

        @inlinable
        public mutating func next() -> Element? {
            guard offset < buffer.count else { return nil }
            defer { offset += 1 }
            return buffer[offset]
        }
    }

    /// An iterator from front to back.
    @inlinable
    public func makeIterator() -> Iterator { Iterator(self) }

    /// The number of elements, known up front.
    @inlinable
    public var underestimatedCount: Int { count }
}

extension RingBuffer: Sendable where Element: Sendable {}
extension RingBuffer.Iterator: Sendable where Element: Sendable {}
