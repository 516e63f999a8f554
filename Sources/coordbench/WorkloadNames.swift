extension CaseIterable where Self: RawRepresentable, RawValue == String {
    /// The workloads a command line names: `all` (every case, in order) or one by its name; nil for
    /// any other name.
    static func named(_ name: String) -> [Self]? {
        if name == "all" { return Array(allCases) }
        return Self(rawValue: name).map { [$0] }
    }
}
