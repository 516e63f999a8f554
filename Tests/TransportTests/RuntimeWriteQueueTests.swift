import Glibc
import Testing
@testable import Transport

@Suite struct RuntimeWriteQueueTests {
    /// The bytes the iovecs of `queue` describe, as `sendmsg` would send them.
    func gathered(_ queue: WriteQueue, maxBuffers: Int) -> (bytes: [UInt8], total: Int, vectors: Int) {
        queue.withIOVectors(maxBuffers: maxBuffers) { vectors, total in
            var bytes: [UInt8] = []
            for vector in vectors {
                bytes.append(contentsOf: UnsafeRawBufferPointer(start: vector.iov_base, count: vector.iov_len))
            }
            return (bytes, total, vectors.count)
        }
    }

    @Test func gathersBuffersInOrderFromThePartlyWrittenHead() {
        var queue = WriteQueue()
        queue.append([1, 2, 3])
        queue.append([])
        queue.append([4, 5])
        queue.append([6])
        #expect(queue.byteCount == 6)
        #expect(queue.bufferCount == 3)
        queue.consume(2)
        let all = gathered(queue, maxBuffers: 64)
        #expect(all.bytes == [3, 4, 5, 6])
        #expect(all.total == 4)
        let firstTwo = gathered(queue, maxBuffers: 2)
        #expect(firstTwo.bytes == [3, 4, 5])
        #expect(firstTwo.vectors == 2)
    }

    @Test func consumingAcrossBuffersLeavesTheRestIntact() {
        var queue = WriteQueue()
        for value in 0..<100 { queue.append([UInt8(value), UInt8(value)]) }
        queue.consume(101)
        #expect(queue.byteCount == 99)
        #expect(gathered(queue, maxBuffers: 1).bytes == [50])
        queue.consume(99)
        #expect(queue.isEmpty)
        #expect(queue.bufferCount == 0)
        #expect(gathered(queue, maxBuffers: 8).total == 0)
    }

    @Test func droppingUnstartedMessagesKeepsTheRestOfTheOnePartlyWritten() {
        var queue = WriteQueue()
        // Message 1 in three buffers (a frame's head, a shared payload, its tail), then messages 2 and 3.
        queue.append([1, 1], endsMessage: false)
        queue.append([2, 2, 2], endsMessage: false)
        queue.append([3])
        queue.append([4, 4])
        queue.append([5, 5, 5])
        queue.consume(3)  // the head buffer and one byte of the payload
        var released: [[UInt8]] = []
        queue.dropUnstartedMessages { released.append($0) }
        #expect(released == [[4, 4], [5, 5, 5]])
        #expect(queue.byteCount == 3)
        #expect(gathered(queue, maxBuffers: 64).bytes == [2, 2, 3])
    }

    @Test func aMessageWhoseFirstBuffersAreWrittenIsKeptWhole() {
        var queue = WriteQueue()
        queue.append([1, 1], endsMessage: false)
        queue.append([2, 2])
        queue.append([3])
        var written: [[UInt8]] = []
        queue.consume(2) { written.append($0) }
        #expect(written == [[1, 1]])
        var dropped: [[UInt8]] = []
        queue.dropUnstartedMessages { dropped.append($0) }
        #expect(dropped == [[3]], "the rest of the message under way stays, the next one goes")
        #expect(gathered(queue, maxBuffers: 64).bytes == [2, 2])
    }

    @Test func withNothingStartedEverythingIsDropped() {
        var queue = WriteQueue()
        queue.append([1])
        queue.append([2, 2])
        var dropped = 0
        queue.dropUnstartedMessages { dropped += $0.count }
        #expect(dropped == 3 && queue.isEmpty && queue.bufferCount == 0)
    }
}
