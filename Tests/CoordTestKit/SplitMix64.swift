import CorePrimitives
#if canImport(Glibc)
import Glibc
#endif

/// The seeded generator of the primitives leaf, for tests that import only this kit.
public typealias SplitMix64 = CorePrimitives.SplitMix64

extension CorePrimitives.SplitMix64 {
    /// A seed from `COORDD_SIM_SEED` when set (to replay a failure), else a fresh random one.
    public static func seedFromEnvironment() -> UInt64 {
        if let text = getenv("COORDD_SIM_SEED"), let seed = UInt64(String(cString: text)) { return seed }
        return UInt64.random(in: 1...UInt64.max)
    }
}
