import Testing

/// The churn history checker finds what it is there to find: histories with a planted fault are reported,
/// each for its fault, and a clean one is not.
struct AssignmentChurnCheckerTests {
    static func writes(_ texts: [String]) -> [(sequence: UInt64, payload: [UInt8])] {
        texts.enumerated().map { (UInt64($0.offset + 1), Array($0.element.utf8)) }
    }

    @Test func aCleanHandOffHasNoProblems() {
        let history = Self.writes(["m0:5", "m0:5", "m1:7", "m1:7", "m0:9"])
        #expect(ChurnHistory.problems(partition: "3", writes: history, grants: [5: "m0", 7: "m1", 9: "m0"]).isEmpty)
    }

    @Test func twoLiveOwnersInterleavingAreReported() {
        // m1 was granted fence 7 while m0 still wrote under 5: m0's late write follows one under 7.
        let history = Self.writes(["m0:5", "m1:7", "m0:5"])
        #expect(ChurnHistory.problems(partition: "3", writes: history, grants: [5: "m0", 7: "m1"])
            == ["partition 3: a write under fence 5 by m0 followed one under 7"])
    }

    @Test func oneFenceWrittenByTwoMembersIsReported() {
        let history = Self.writes(["m0:5", "m1:5"])
        #expect(ChurnHistory.problems(partition: "3", writes: history, grants: [5: "m0"]) == [
            "partition 3: fence 5 written by m0 and m1",
            "partition 3: fence 5 of m0 written by m1",
        ])
    }

    @Test func aFenceThatDoesNotIncreaseOnAMoveIsReported() {
        // The partition moved from m0 (fence 5) to m1, whose grant came with a lower fence.
        let history = Self.writes(["m0:5", "m1:4"])
        #expect(ChurnHistory.problems(partition: "3", writes: history, grants: [5: "m0", 4: "m1"])
            == ["partition 3: a write under fence 4 by m1 followed one under 5"])
    }

    @Test func aFenceGrantedToTwoMembersIsRecorded() {
        let history = ChurnHistory()
        history.granted("3", fence: 5, to: "m0")
        history.granted("3", fence: 5, to: "m0")
        #expect(history.recordedProblems.isEmpty, "the same grant seen twice is one grant")
        history.granted("3", fence: 5, to: "m1")
        #expect(history.recordedProblems == ["partition 3 fence 5 was given to m0 and to m1"])
    }

    @Test func anUnreadableWriteIsReported() {
        #expect(ChurnHistory.problems(partition: "3", writes: Self.writes(["garbage"]), grants: [:])
            == ["partition 3 entry 1 is unreadable"])
    }
}
