import LeaseEngine

extension AcquireAction {
    var grant: LeaseGrant? {
        if case .appendToLog(_, let grant) = self { return grant }
        return nil
    }

    var rejection: LeaseRejection? {
        if case .reject(let rejection) = self { return rejection }
        return nil
    }
}

extension RenewAction {
    var grant: LeaseGrant? {
        switch self {
        case .renewed(let grant), .appendToLog(_, let grant): return grant
        case .reject: return nil
        }
    }

    var rejection: LeaseRejection? {
        if case .reject(let rejection) = self { return rejection }
        return nil
    }
}

extension ReleaseAction {
    var rejection: LeaseRejection? {
        if case .reject(let rejection) = self { return rejection }
        return nil
    }
}
