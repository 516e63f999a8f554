import Testing

@testable import StreamCore

struct LogFramingTests {
    @Test(arguments: [0, 1, 7, 8, 100, 4096])
    func recordFrameRoundTrips(size: Int) {
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        var buffer: [UInt8] = [0xAA, 0xBB]  // frames are appended after whatever the buffer holds
        payload.withUnsafeBytes { LogFormat.appendFrame(kind: 42, flags: 0, payload: $0, to: &buffer) }
        #expect(buffer.count == 2 + LogFormat.frameHeaderSize + size)
        buffer.withUnsafeBytes { raw in
            let frame = UnsafeRawBufferPointer(rebasing: raw[2...])
            #expect(LogFormat.payloadLength(frame.baseAddress!) == size)
            #expect(LogFormat.isIntact(frame))
            #expect(frame[8] == 42)
            #expect(frame[9] == 0)
            #expect(Array(frame[LogFormat.frameHeaderSize...]) == payload)
            #expect(LogFormat.commitContents(frame) == nil)
        }
    }

    @Test func frameStartsWithLittleEndianLengthAndChecksumOverTheRest() {
        var buffer: [UInt8] = []
        [UInt8]([1, 2, 3]).withUnsafeBytes { LogFormat.appendFrame(kind: 9, flags: 0, payload: $0, to: &buffer) }
        #expect(Array(buffer[0..<4]) == [3, 0, 0, 0])
        let expected = CRC32C.checksum([3, 0, 0, 0, 9, 0, 1, 2, 3])
        #expect(Array(buffer[4..<8]) == [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: expected >> $0) })
    }

    @Test func commitFrameCarriesBatchNumberAndRecordCount() {
        var buffer: [UInt8] = []
        LogFormat.appendCommitFrame(batch: 0x0102_0304_0506_0708, recordCount: 77, to: &buffer)
        #expect(buffer.count == LogFormat.commitFrameSize)
        buffer.withUnsafeBytes { frame in
            #expect(LogFormat.isIntact(frame))
            let contents = LogFormat.commitContents(frame)
            #expect(contents?.batch == 0x0102_0304_0506_0708)
            #expect(contents?.recordCount == 77)
        }
    }

    @Test func everySingleByteChangeInAFrameIsDetected() {
        var buffer: [UInt8] = []
        Array("some payload".utf8).withUnsafeBytes { LogFormat.appendFrame(kind: 3, flags: 0, payload: $0, to: &buffer) }
        for offset in buffer.indices {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var damaged = buffer
                damaged[offset] ^= mask
                let length = damaged.withUnsafeBytes { LogFormat.payloadLength($0.baseAddress!) }
                // A damaged length no longer matches the frame's size, which the reader sees first.
                let intact = length + LogFormat.frameHeaderSize == damaged.count
                    && damaged.withUnsafeBytes { LogFormat.isIntact($0) }
                #expect(!intact, "byte \(offset) ^ \(mask)")
            }
        }
    }

    @Test func unknownFlagBitsMakeAFrameInvalid() {
        var buffer: [UInt8] = []
        [UInt8]([5]).withUnsafeBytes { LogFormat.appendFrame(kind: 1, flags: 0x04, payload: $0, to: &buffer) }
        #expect(!buffer.withUnsafeBytes { LogFormat.isIntact($0) })
    }

    @Test(arguments: [(UInt32(1), "00000001.log"), (42, "00000042.log"), (99_999_999, "99999999.log")])
    func fileNamesAreEightDigitsAndParseBack(number: UInt32, name: String) {
        #expect(LogFormat.fileName(number) == name)
        #expect(LogFormat.fileNumber(fromName: name) == number)
    }

    @Test(arguments: ["clean-shutdown", "00000000.log", "0000001.log", "0000000a.log", "00000001.log.tmp", "00000001.txt"])
    func otherNamesAreNotLogFiles(name: String) {
        #expect(LogFormat.fileNumber(fromName: name) == nil)
    }

    @Test func fileHeaderNamesItsOwnNumber() {
        let header = LogFormat.fileHeader(number: 5)
        #expect(header.count == LogFormat.fileHeaderSize)
        #expect(header.withUnsafeBytes { LogFormat.isValidFileHeader($0, number: 5) })
        #expect(!header.withUnsafeBytes { LogFormat.isValidFileHeader($0, number: 6) })
    }

    @Test func cleanMarkerRoundTripsAndRejectsDamage() {
        let marker = LogCleanMarker(file: 3, size: 123_456, nextBatch: 99)
        #expect(LogCleanMarker(decoding: marker.encoded) == marker)
        var damaged = marker.encoded
        damaged[14] ^= 1
        #expect(LogCleanMarker(decoding: damaged) == nil)
        #expect(LogCleanMarker(decoding: Array(marker.encoded.dropLast())) == nil)
    }
}
