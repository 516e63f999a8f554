import CoordTestKit

extension SplitMix64 {
    /// A value in `0..<bound` (the modulo bias is irrelevant for test inputs).
    mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        return next() % bound
    }
}
