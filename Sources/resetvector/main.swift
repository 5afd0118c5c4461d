import VectorHarness
let runner = VectorRunner(metadataDirectory: CommandLine.arguments[1], keepFailures: 3)
var p = 0, f = 0
for file in try VectorRunner.vectorFiles(in: CommandLine.arguments[1]) {
    let r = try runner.run(file: file)
    print(r.name, r.passed, r.failed, r.documented)
    for (k, v) in r.documentedReasons { print("  R", r.name, k.prefix(20), v) }
    for x in r.failures { print("   ", x) }
    p += r.passed; f += r.failed
}
print("\(p) passed, \(f) failed")
