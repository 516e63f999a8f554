import CorePrimitives
import Glibc

/// A connection's outgoing bytes: whole buffers in order, with a byte offset into the first.
///
/// Buffers are kept as the caller's arrays (no copy: a payload shared by many connections stays one
/// allocation) and handed to `sendmsg` as an iovec array. Each buffer says whether it ends a message (a
/// message may span several buffers, e.g. a frame's head, a shared payload and its tail), so the
/// messages not yet begun can be dropped without cutting one in half. Pure: no descriptors, no loop.
struct WriteQueue {
    private struct Slot {
        var bytes: [UInt8]
        var endsMessage: Bool
    }

    /// Buffers not yet fully written, the first one first.
    private var slots = RingBuffer<Slot>()
    /// Bytes of the first slot already written.
    private var headOffset = 0
    /// True when the first slot continues a message whose earlier buffers were written.
    private var headContinuesMessage = false
    /// Bytes queued and not yet written.
    private(set) var byteCount = 0

    /// True when nothing is waiting to be written.
    var isEmpty: Bool { byteCount == 0 }

    /// Number of buffers holding unwritten bytes.
    var bufferCount: Int { slots.count }

    /// Appends `bytes`, the last buffer of a message unless `endsMessage` is false; empty buffers are
    /// ignored.
    mutating func append(_ bytes: [UInt8], endsMessage: Bool = true) {
        guard !bytes.isEmpty else { return }
        slots.append(Slot(bytes: bytes, endsMessage: endsMessage))
        byteCount += bytes.count
    }

    /// Marks the first `count` queued bytes as written; `released` gets each buffer written in full.
    mutating func consume(_ count: Int, released: ([UInt8]) -> Void = { _ in }) {
        precondition(count >= 0 && count <= byteCount, "consumed \(count) of \(byteCount) queued bytes")
        byteCount -= count
        var remaining = count
        while remaining > 0 {
            let available = slots[0].bytes.count - headOffset
            if remaining < available {
                headOffset += remaining
                return
            }
            remaining -= available
            // Non-nil: the bytes counted as queued are in the slots.
            let written = slots.popFirst()!
            headContinuesMessage = !written.endsMessage
            released(written.bytes)
            headOffset = 0
        }
    }

    /// Drops everything queued; `released` gets each buffer.
    mutating func removeAll(released: ([UInt8]) -> Void = { _ in }) {
        while let slot = slots.popFirst() { released(slot.bytes) }
        headOffset = 0
        headContinuesMessage = false
        byteCount = 0
    }

    /// Drops every message none of whose bytes were written, keeping the rest of a message that is partly
    /// written, so what the peer receives stays whole messages. `released` gets each buffer dropped.
    mutating func dropUnstartedMessages(released: ([UInt8]) -> Void) {
        var keep = 0
        if headOffset > 0 || headContinuesMessage {
            // The message under way runs to its last buffer.
            while keep < slots.count {
                keep += 1
                if slots[keep - 1].endsMessage { break }
            }
        }
        var dropped: [[UInt8]] = []
        while slots.count > keep, let slot = slots.popLast() {
            byteCount -= slot.bytes.count
            dropped.append(slot.bytes)
        }
        for bytes in dropped.reversed() { released(bytes) }
    }

    /// Calls `body` with iovecs for the first `maxBuffers` queued buffers and their total byte count.
    ///
    /// The pointers are valid only inside `body`: each array's storage is pinned by a nested
    /// `withUnsafeBytes`, which is why this recurses once per buffer (at most `maxBuffers` deep).
    func withIOVectors<R>(maxBuffers: Int, _ body: (UnsafeMutableBufferPointer<iovec>, Int) -> R) -> R {
        let count = min(maxBuffers, bufferCount)
        return withUnsafeTemporaryAllocation(of: iovec.self, capacity: max(count, 1)) { vectors in
            pin(index: 0, count: count, vectors: vectors, totalBytes: 0, body)
        }
    }

    private func pin<R>(
        index: Int, count: Int, vectors: UnsafeMutableBufferPointer<iovec>, totalBytes: Int,
        _ body: (UnsafeMutableBufferPointer<iovec>, Int) -> R
    ) -> R {
        if index == count {
            return body(UnsafeMutableBufferPointer(rebasing: vectors[0..<count]), totalBytes)
        }
        let skip = index == 0 ? headOffset : 0
        return slots[index].bytes.withUnsafeBytes { bytes in
            // Queued buffers are never empty, so baseAddress is non-nil.
            vectors[index] = iovec(
                iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress! + skip), iov_len: bytes.count - skip)
            return pin(index: index + 1, count: count, vectors: vectors, totalBytes: totalBytes + bytes.count - skip, body)
        }
    }
}
