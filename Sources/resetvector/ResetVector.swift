import ArgumentParser

@main
struct ResetVector: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resetvector",
        abstract: "A full-system x86 PC emulator that shows every way a machine resets.",
        discussion: """
            ResetVector runs x86 guests on a software CPU. Every reset, reboot, halt and \
            power path behaves as real hardware does and is recorded in a deterministic trace.
            """,
        subcommands: [DemoCommand.self, RunCommand.self, BenchCommand.self, VectorsCommand.self]
    )
}

/// A one-line error for the user, and a non-zero exit.
struct UserError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
