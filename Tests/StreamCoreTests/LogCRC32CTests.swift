import Testing

@testable import StreamCore

struct LogCRC32CTests {
    /// RFC 3720 §B.4 test vectors, plus the common check value of "123456789".
    @Test(arguments: [
        ([UInt8](repeating: 0, count: 32), UInt32(0x8A91_36AA)),
        ([UInt8](repeating: 0xFF, count: 32), UInt32(0x62A8_AB43)),
        ((0..<32).map { UInt8($0) }, UInt32(0x46DD_794E)),
        ((0..<32).map { UInt8(31 - $0) }, UInt32(0x113F_DB5C)),
        (Array("123456789".utf8), UInt32(0xE306_9283)),
        ([], UInt32(0)),
    ])
    func checksumMatchesPublishedVectors(bytes: [UInt8], expected: UInt32) {
        #expect(CRC32C.checksum(bytes) == expected)
    }

    @Test func checksumOfPiecesEqualsChecksumOfWhole() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        let whole = CRC32C.checksum(bytes)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let pieces = bytes.withUnsafeBytes { raw in
                CRC32C.finalize(
                    CRC32C.update(
                        CRC32C.update(CRC32C.initial, UnsafeRawBufferPointer(rebasing: raw[0..<split])),
                        UnsafeRawBufferPointer(rebasing: raw[split...])))
            }
            #expect(pieces == whole, "split at \(split)")
        }
    }

    @Test func slicedLoopAgreesWithBytewiseDefinitionAtEveryLength() {
        // The bitwise definition: reflected polynomial 0x82F63B78, initial and final inversion.
        func reference(_ bytes: ArraySlice<UInt8>) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            }
            return ~crc
        }
        let bytes = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) }
        for start in 0..<3 {
            for end in start...bytes.count {
                let slice = bytes[start..<end]
                #expect(CRC32C.checksum(Array(slice)) == reference(slice), "bytes \(start)..<\(end)")
            }
        }
    }
}
