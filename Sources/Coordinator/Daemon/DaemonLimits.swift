/// Named limits of the daemon's lifecycle.
public enum DaemonLimits {
    /// Share of the shutdown grace the listener gets to end streams and close connections; the rest
    /// is kept for flushing the stores and stopping the loops, so the whole drain fits the grace.
    public static let listenerShareOfGracePercent: Int64 = 75
}
