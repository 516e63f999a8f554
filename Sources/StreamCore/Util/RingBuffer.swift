import CorePrimitives

/// The queue of the primitives leaf, named inside this module so its files need no import of their own.
/// Internal: other modules import `CorePrimitives` themselves.
typealias RingBuffer = CorePrimitives.RingBuffer
