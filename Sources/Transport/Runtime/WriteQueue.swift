import Glibc

/// A connection's outgoing bytes: whole buffers in order, with a byte offset into the first.
///
/// Buffers are kept as the caller's arrays (no copy: a payload shared by many connections stays one
/// allocation) and handed to `sendmsg` as an iovec array. Pure: no descriptors, no loop.
struct WriteQueue {
    private var buffers: [[UInt8]] = []
    /// Index of the first buffer not yet fully written; earlier slots are emptied and reclaimed in bulk.
    private var head = 0
    /// Bytes of `buffers[head]` already written.
    private var headOffset = 0
    /// Bytes queued and not yet written.
    private(set) var byteCount = 0

    /// True when nothing is waiting to be written.
    var isEmpty: Bool { byteCount == 0 }

    /// Number of buffers holding unwritten bytes.
    var bufferCount: Int { buffers.count - head }

    /// Appends `bytes`; empty buffers are ignored.
    mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        buffers.append(bytes)
        byteCount += bytes.count
    }

    /// Marks the first `count` queued bytes as written.
    mutating func consume(_ count: Int) {
        precondition(count >= 0 && count <= byteCount, "consumed \(count) of \(byteCount) queued bytes")
        byteCount -= count
        var remaining = count
        while remaining > 0 {
            let available = buffers[head].count - headOffset
            if remaining < available {
                headOffset += remaining
                return
            }
            remaining -= available
            buffers[head] = []
            head += 1
            headOffset = 0
        }
        if head == buffers.count {
            buffers.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 32 && head * 2 >= buffers.count {
            buffers.removeFirst(head)
            head = 0
        }
    }

    /// Drops everything queued.
    mutating func removeAll() {
        buffers = []
        head = 0
        headOffset = 0
        byteCount = 0
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
        return buffers[head + index].withUnsafeBytes { bytes in
            // Queued buffers are never empty, so baseAddress is non-nil.
            vectors[index] = iovec(
                iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress! + skip), iov_len: bytes.count - skip)
            return pin(index: index + 1, count: count, vectors: vectors, totalBytes: totalBytes + bytes.count - skip, body)
        }
    }
}
