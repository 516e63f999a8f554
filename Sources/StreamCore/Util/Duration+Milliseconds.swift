extension Duration {
    /// The duration in whole milliseconds, the fraction dropped (toward zero): what the wire's `_ms`
    /// fields, log lines and `poll`-style timeouts take. The one conversion from `Duration`.
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
