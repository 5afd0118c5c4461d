import X86

/// A debugger's data watchpoints: global, as gdb's are, so every CPU watches the same linear
/// ranges (each through its own current paging) and reports its own hits.
extension Machine {
    /// The data watchpoints every CPU reports hits of (``CPU/takeDataWatchpointHit()``); none by
    /// default. Setting them costs a TLB flush on each CPU; while none is set, memory accesses
    /// pay nothing for them.
    public var dataWatchpoints: [DataWatchpoint] {
        get { cpus.first?.dataWatchpoints ?? [] }
        set { for cpu in cpus { cpu.dataWatchpoints = newValue } }
    }
}
