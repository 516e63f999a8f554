import Testing

/// The suites that move megabytes per test: records at the size limits, huge bad input, clients
/// flooding the daemon. They run one after another: on a 2-core machine several of them at once keep
/// the cooperative threads busy for seconds at a time and starve the deadlines of the tests beside them.
@Suite(.serialized) enum LargeMessageSuites {}
