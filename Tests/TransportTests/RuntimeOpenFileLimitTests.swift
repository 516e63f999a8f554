import Testing
@testable import Transport

@Suite struct RuntimeOpenFileLimitTests {
    @Test func raisingTheSoftLimitReachesTheHardLimit() throws {
        let raised = try OpenFileLimit.raiseToHardLimit()
        let (soft, hard) = try OpenFileLimit.current()
        #expect(soft == raised)
        #expect(soft == hard || hard == UInt64.max, "soft \(soft), hard \(hard)")
        // Raising again changes nothing.
        #expect(try OpenFileLimit.raiseToHardLimit() == raised)
    }
}
