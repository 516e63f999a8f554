import CorePrimitives
import Testing

/// The one lowercase hex rule and UUID text writer.
struct HexTextTests {
    @Test func everyNibbleIsItsLowercaseDigitWhateverTheHighBits() {
        let digits = Array("0123456789abcdef".utf8)
        for byte in 0...255 {
            #expect(HexText.digit(UInt8(byte)) == digits[byte & 0x0F], "byte \(byte)")
        }
    }

    @Test func aUUIDIsWrittenInItsCanonicalForm() {
        #expect(HexText.uuid(high: 0x123E_4567_E89B_12D3, low: 0xA456_4266_1417_4000) == "123e4567-e89b-12d3-a456-426614174000")
        #expect(HexText.uuid(high: 0, low: 0) == "00000000-0000-0000-0000-000000000000")
        #expect(HexText.uuid(high: .max, low: .max) == "ffffffff-ffff-ffff-ffff-ffffffffffff")
        #expect(HexText.uuid(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210).utf8.count == HexText.uuidCount)
    }
}
