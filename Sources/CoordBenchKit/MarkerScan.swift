/// Finds the number that identifies a change inside a message without decoding the message: the
/// observers of a fan-out run need only that number, and decoding thousands of copies of every
/// inventory would make the client, not the server, the bottleneck.
public enum MarkerScan {
    /// The unsigned integer after the last `"revision":` in `bytes` (coordd's inventories and deltas;
    /// worker metadata never holds that key). Nil when there is none.
    public static func lastRevision(_ bytes: [UInt8]) -> UInt64? {
        let key = Array(#""revision":"#.utf8)
        guard bytes.count >= key.count else { return nil }
        var start = bytes.count - key.count
        while start >= 0 {
            if bytes[start] == key[0] && bytes[start..<(start + key.count)].elementsEqual(key) {
                return number(bytes, from: start + key.count)
            }
            start -= 1
        }
        return nil
    }

    /// The integer in the first `"revision":"N"` of `bytes` (the header of an etcd watch response,
    /// which comes before its events). Nil when there is none.
    public static func firstQuotedRevision(_ bytes: [UInt8]) -> UInt64? {
        let key = Array(#""revision":""#.utf8)
        guard bytes.count >= key.count else { return nil }
        for start in 0...(bytes.count - key.count) where bytes[start] == key[0] {
            if bytes[start..<(start + key.count)].elementsEqual(key) { return number(bytes, from: start + key.count) }
        }
        return nil
    }

    /// The decimal number that starts `bytes`, ending at `separator` (`42|…` in coordbench's Redis
    /// messages). Nil without digits or separator.
    public static func leadingNumber(_ bytes: [UInt8], separator: UInt8 = UInt8(ascii: "|")) -> UInt64? {
        guard let end = bytes.firstIndex(of: separator), end > 0 else { return nil }
        return number(bytes, from: 0).flatMap { _ in UInt64(String(decoding: bytes[..<end], as: UTF8.self)) }
    }

    /// The decimal digits from `index` on, as a number; nil without digits or on overflow.
    private static func number(_ bytes: [UInt8], from index: Int) -> UInt64? {
        var value: UInt64 = 0
        var position = index
        while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (added, overflow2) = shifted.addingReportingOverflow(UInt64(bytes[position] - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = added
            position += 1
        }
        return position > index ? value : nil
    }
}
