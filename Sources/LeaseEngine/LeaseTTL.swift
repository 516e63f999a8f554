/// A requested lease time-to-live, in the unit the client used.
///
/// streamkit clients send whole seconds (`ttl_seconds`); coordd's `ttl_ms` extension allows TTLs down to
/// 1 ms. The unit is kept so that validation messages name the field the client actually sent.
public enum LeaseTTL: Sendable, Hashable {
    /// streamkit's `ttl_seconds`.
    case seconds(Int64)
    /// coordd's `ttl_ms` extension.
    case milliseconds(Int64)

    /// The TTL in milliseconds, or a rejection message naming the client's field when it is not positive
    /// or exceeds `maxTTLMs` (streamkit v1 §5.1 wording, with `ttl_ms` for the millisecond form).
    func validatedMilliseconds(maxTTLMs: Int64) -> Result<Int64, LeaseRejection> {
        switch self {
        case .seconds(let seconds):
            // Compared in seconds first so that a huge value cannot overflow the conversion.
            let maxSeconds = maxTTLMs / 1_000
            if seconds <= 0 { return .failure(LeaseRejection("ttl_seconds must be positive")) }
            if seconds > maxSeconds {
                return .failure(LeaseRejection("ttl_seconds exceeds maximum of \(maxSeconds)"))
            }
            return .success(seconds * 1_000)
        case .milliseconds(let milliseconds):
            if milliseconds <= 0 { return .failure(LeaseRejection("ttl_ms must be positive")) }
            if milliseconds > maxTTLMs {
                return .failure(LeaseRejection("ttl_ms exceeds maximum of \(maxTTLMs)"))
            }
            return .success(milliseconds)
        }
    }
}
