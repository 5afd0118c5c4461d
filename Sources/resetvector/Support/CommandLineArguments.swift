/// What the command line needs before and after ArgumentParser sees it.
enum CommandLineArguments {
    /// `--option=` with nothing after the `=` becomes `--option` and an empty value, so an
    /// empty value (`--cmdline=`) is accepted in either spelling.
    ///
    /// `demo --linux …` is the Linux matrix (`LinuxMatrixCommand`), a command of its own because
    /// its `--board` and `--smp` take lists where the built-in demo's take one value.
    static func normalized(_ arguments: [String]) -> [String] {
        var arguments = arguments
        if arguments.first == DemoCommand.configuration.commandName, let flag = arguments.firstIndex(of: "--linux") {
            arguments.remove(at: flag)
            arguments[0] = LinuxMatrixCommand.configuration.commandName!
        }
        var result: [String] = []
        for argument in arguments {
            if argument.hasPrefix("--"), argument.hasSuffix("="), argument.filter({ $0 == "=" }).count == 1 {
                result += [String(argument.dropLast()), ""]
            } else {
                result.append(argument)
            }
        }
        return result
    }

    /// ArgumentParser's error message as one line: the problem and the option it names,
    /// without the usage and help lines; a list of valid values joins the line.
    static func oneLine(_ message: String) -> String {
        var text = ""
        for line in message.split(separator: "\n", omittingEmptySubsequences: true) {
            let trimmed = line.trimmingPrefix(while: { $0 == " " })
            if line.hasPrefix("Help:") || line.hasPrefix("Usage:") || trimmed.hasPrefix("See '") { continue }
            if trimmed.hasPrefix("- ") {
                text += (text.hasSuffix(":") ? " " : ", ") + trimmed.dropFirst(2)
            } else {
                text += (text.isEmpty ? "" : " ") + trimmed
            }
        }
        if text.hasPrefix("Error: ") { text.removeFirst("Error: ".count) }
        return text
    }
}
