import Machine

/// Several controls on one machine (the QMP socket and the gdb stub): each is asked for its
/// commands in turn, and the machine waits on them in turn.
public final class ControlGroup: MachineControl {
    private let members: [any MachineControl]

    public init(_ members: [any MachineControl]) {
        self.members = members
    }

    public func performPendingCommands(on machine: Machine) {
        for member in members { member.performPendingCommands(on: machine) }
    }

    public func waitForCommands(milliseconds: Int) {
        let share = max(1, milliseconds / max(1, members.count))
        for member in members { member.waitForCommands(milliseconds: share) }
    }

    public var wantsEveryInstruction: Bool { members.contains { $0.wantsEveryInstruction } }

    public func instructionRetired(by cpu: Int, on machine: Machine) {
        for member in members where member.wantsEveryInstruction { member.instructionRetired(by: cpu, on: machine) }
    }

    public func catchesShutdown(of cpu: Int, on machine: Machine) -> Bool {
        members.contains { $0.catchesShutdown(of: cpu, on: machine) }
    }

    public var holdsPausedMachine: Bool { members.contains { $0.holdsPausedMachine } }
}
