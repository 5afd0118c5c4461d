/// Instructions that exist only in protected mode: ARPL, LAR, LSL, SYSENTER, SYSEXIT.
extension CPU {
    func execArpl(_ d: Instruction) -> Step {
        raiseFault(.invalidOpcode)
    }

    func execLoadAccessRights(_ d: Instruction) -> Step {
        raiseFault(.invalidOpcode)
    }

    func execLoadSegmentLimit(_ d: Instruction) -> Step {
        raiseFault(.invalidOpcode)
    }

    func execSysenter() -> Step {
        raiseFault(.invalidOpcode)
    }

    func execSysexit(_ d: Instruction) -> Step {
        raiseFault(.invalidOpcode)
    }
}
