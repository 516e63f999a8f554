import Inventory
import Testing

struct WorkerIDTests {
    let sample: [UInt8] = [
        0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00,
    ]

    @Test func bytesRoundTripThroughBigEndianHalves() throws {
        let id = try #require(WorkerID(bytes: sample))
        #expect(id.high == 0x123e_4567_e89b_12d3)
        #expect(id.low == 0xa456_4266_1417_4000)
        #expect(id.bytes == sample)
        #expect(WorkerID(bytes: id.bytes) == id)
    }

    @Test(arguments: [0, 15, 17, 32])
    func bytesOfAnyOtherLengthAreRejected(length: Int) {
        #expect(WorkerID(bytes: [UInt8](repeating: 7, count: length)) == nil)
    }

    @Test func descriptionIsCanonicalLowercaseUUID() throws {
        let id = try #require(WorkerID(bytes: sample))
        #expect(id.description == "123e4567-e89b-12d3-a456-426614174000")
        #expect(WorkerID(high: 0, low: 0).description == "00000000-0000-0000-0000-000000000000")
    }

    @Test func orderIsTheByteOrderOfTheUUID() {
        // A difference in the first byte outweighs any difference later; the low half breaks ties.
        let a = WorkerID(bytes: [0x01] + [UInt8](repeating: 0xff, count: 15))
        let b = WorkerID(bytes: [0x02] + [UInt8](repeating: 0x00, count: 15))
        let c = WorkerID(bytes: [0x02] + [UInt8](repeating: 0x00, count: 14) + [0x01])
        #expect(a != nil && b != nil && c != nil)
        if let a, let b, let c {
            #expect(a < b)
            #expect(b < c)
            #expect([c, a, b].sorted() == [a, b, c])
            #expect([c, a, b].sorted().map(\.bytes) == [a, b, c].map(\.bytes).sorted { $0.lexicographicallyPrecedes($1) })
        }
    }
}
