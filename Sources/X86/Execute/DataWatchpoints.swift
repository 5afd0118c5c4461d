/// A data watchpoint a debugger sets (gdb's `watch`, `rwatch` and `awatch`): a range of linear
/// addresses, in the CPU's current paging, whose reads, writes or both the CPU reports to its
/// owner. Unlike DR0–DR3 it belongs to the debugger, not the guest: DR6 and DR7 never show it
/// and no #DB is raised for it.
public struct DataWatchpoint: Hashable, Sendable {
    /// Which accesses hit the watchpoint.
    public enum Kind: Hashable, Sendable {
        /// A write of any value, the one already there included.
        case write
        /// A read.
        case read
        /// A read or a write.
        case access
    }

    public var kind: Kind
    /// The first watched byte's linear address.
    public var address: UInt64
    /// How many bytes are watched (at least one; the range does not wrap around the top of
    /// the address space).
    public var length: UInt64

    public init(kind: Kind, address: UInt64, length: UInt64) {
        self.kind = kind
        self.address = address
        self.length = length
    }

    /// The last watched byte's linear address.
    var lastAddress: UInt64 { address &+ (length &- 1) }

    /// Whether `size` bytes from `start` (an access within one page) touch a watched byte.
    func overlaps(_ start: UInt64, _ size: Int) -> Bool {
        start <= lastAddress && address <= start &+ UInt64(size &- 1)
    }

    /// Whether an access of this direction is one the watchpoint reports.
    func reports(write: Bool) -> Bool {
        switch kind {
        case .write: write
        case .read: !write
        case .access: true
        }
    }
}

/// A debugger watchpoint that a data access hit.
public struct DataWatchpointHit: Equatable, Sendable {
    /// The watchpoint hit (the first one, in the order they were set, when several were).
    public let watchpoint: DataWatchpoint
    /// The first watched byte the access touched.
    public let address: UInt64
}

/// Debugger watchpoints ride on the data breakpoints' mechanism (DebugRegisters.swift): their
/// pages get no read or write tags in the TLB, so every access to them takes the memory slow
/// path, which calls `noteDataAccess`; nothing is added to any access while none is set.
extension CPU {
    /// The debugger's data watchpoints on this CPU. Setting them drops any hit not yet taken
    /// and flushes the TLB, so no fast-path translation made before bypasses them.
    public var dataWatchpoints: [DataWatchpoint] {
        get { debuggerWatchpoints }
        set {
            debuggerWatchpoints = newValue
            dataWatchpointHit = nil
            updateBreakpoints()
        }
    }

    /// The first watchpoint hit since the last call, and forgets it: the CPU records one hit
    /// per instruction boundary its owner looks at (run one instruction at a time to know which
    /// instruction hit). A faulting instruction's accesses are no hits: it did not complete,
    /// and it runs again after its handler.
    public func takeDataWatchpointHit() -> DataWatchpointHit? {
        defer { dataWatchpointHit = nil }
        return dataWatchpointHit
    }

    /// Whether a linear page holds bytes a debugger watchpoint watches.
    func debuggerWatchesPage(_ pageBase: UInt64) -> Bool {
        debuggerWatchpoints.contains { $0.overlaps(pageBase, 4096) }
    }

    /// Records the first debugger watchpoint an access of `size` bytes at `linear` hits.
    func noteDebuggerWatchpoints(_ linear: UInt64, size: Int, write: Bool) {
        guard dataWatchpointHit == nil,
              let watchpoint = debuggerWatchpoints.first(where: { $0.reports(write: write) && $0.overlaps(linear, size) })
        else { return }
        dataWatchpointHit = DataWatchpointHit(watchpoint: watchpoint, address: max(linear, watchpoint.address))
    }
}
