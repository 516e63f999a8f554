/// The members of a JSON object: each key once, with the last value the document gave it (as Go's
/// decoder keeps it).
///
/// Members are kept in an array, in the order their keys first appeared, and a small object is searched
/// by comparing keys: the objects messages are made of have a handful of members with short keys, and
/// comparing a few short strings costs less than hashing one. An object over ``indexedFrom`` members
/// also keeps a dictionary from key to position, so a large one (a metadata map) costs no more to read
/// or build than a dictionary would. Key order carries no meaning: two objects are equal when they have
/// the same members.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSONValue)

    /// The keys, in the order they first appeared.
    public private(set) var keys: [String] = []
    private var values: [JSONValue] = []
    /// Position of each key, once there are more than ``indexedFrom`` members.
    private var positions: [String: Int]?

    /// Members up to which a key is found by comparing keys rather than by a dictionary.
    static let indexedFrom = 12

    /// An empty object with room for `capacity` members.
    public init(minimumCapacity capacity: Int = 0) {
        keys.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    /// The members of `dictionary`.
    public init(_ dictionary: [String: JSONValue]) {
        self.init(minimumCapacity: dictionary.count)
        for (key, value) in dictionary { updateValue(value, forKey: key) }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(minimumCapacity: elements.count)
        for (key, value) in elements { updateValue(value, forKey: key) }
    }

    /// The number of members.
    public var count: Int { keys.count }

    /// True when the object has no member.
    public var isEmpty: Bool { keys.isEmpty }

    /// The value of `key`, or nil when the object has no such member.
    public subscript(key: String) -> JSONValue? {
        position(of: key).map { values[$0] }
    }

    /// Sets `key` to `value`; returns the value it replaced, or nil when the key is new.
    @discardableResult
    public mutating func updateValue(_ value: JSONValue, forKey key: String) -> JSONValue? {
        if let position = position(of: key) {
            defer { values[position] = value }
            return values[position]
        }
        keys.append(key)
        values.append(value)
        if positions != nil {
            positions![key] = keys.count - 1
        } else if keys.count > Self.indexedFrom {
            positions = Dictionary(uniqueKeysWithValues: zip(keys, keys.indices))
        }
        return nil
    }

    private func position(of key: String) -> Int? {
        if let positions { return positions[key] }
        return keys.firstIndex(of: key)
    }

    /// The members as a dictionary.
    public var dictionary: [String: JSONValue] {
        Dictionary(uniqueKeysWithValues: zip(keys, values))
    }

    public func makeIterator() -> Iterator {
        Iterator(keys: keys.makeIterator(), values: values.makeIterator())
    }

    /// The members in the order their keys first appeared.
    public struct Iterator: IteratorProtocol {
        fileprivate var keys: IndexingIterator<[String]>
        fileprivate var values: IndexingIterator<[JSONValue]>

        public mutating func next() -> Element? {
            guard let key = keys.next(), let value = values.next() else { return nil }
            return (key, value)
        }
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a.keys, a.values).allSatisfy { key, value in b[key] == value }
    }
}
