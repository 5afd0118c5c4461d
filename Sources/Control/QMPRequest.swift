/// One message from a client, checked as QEMU's dispatcher checks it (qapi/qmp-dispatch.c):
/// an object with a string `execute`, an optional object `arguments` and an optional `id`
/// of any JSON type, echoed in the reply.
struct QMPRequest {
    let id: JSONValue?
    /// The command's name and argument members, or why the message is not a request.
    let body: Result<(name: String, arguments: [(String, JSONValue)]), QMPError>

    init(_ message: JSONValue) {
        guard case .object(let members) = message else {
            id = nil
            body = .failure(QMPError("QMP input must be a JSON object"))
            return
        }
        id = message["id"]
        body = Self.check(members)
    }

    private static func check(_ members: [(String, JSONValue)]) -> Result<(name: String, arguments: [(String, JSONValue)]), QMPError> {
        if let unexpected = members.first(where: { !["execute", "arguments", "id"].contains($0.0) }) {
            return .failure(QMPError("QMP input member '\(unexpected.0)' is unexpected"))
        }
        guard let execute = members.last(where: { $0.0 == "execute" })?.1 else {
            return .failure(QMPError("QMP input lacks member 'execute'"))
        }
        guard let name = execute.stringValue else {
            return .failure(QMPError("QMP input member 'execute' must be a string"))
        }
        var arguments: [(String, JSONValue)] = []
        if let given = members.last(where: { $0.0 == "arguments" })?.1 {
            guard case .object(let argumentMembers) = given else {
                return .failure(QMPError("QMP input member 'arguments' must be an object"))
            }
            arguments = argumentMembers
        }
        return .success((name, arguments))
    }

    /// The reply to this request: `return` or `error`, with the request's `id`.
    func reply(_ result: Result<JSONValue, QMPError>) -> JSONValue {
        var members: [(String, JSONValue)]
        switch result {
        case .success(let value): members = [("return", value)]
        case .failure(let error): members = [("error", error.json)]
        }
        if let id { members.append(("id", id)) }
        return .object(members)
    }
}
