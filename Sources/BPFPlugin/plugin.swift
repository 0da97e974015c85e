// BPFPlugin: compiles every `Sources/BPF/*.bpf.c` into a Swift file that embeds the BPF object, for the
// target it is applied to (SluiceBPF). The BPF C lives outside every Swift target, because SwiftPM would
// otherwise try to build it for the host (and reject a mixed-language target).
//
// One build command per program: inputs are the program and every header it may include (Sources/BPF/*.h
// and Sources/CXDP/*.h), so touching any of them reruns only this step. The symbol is the lower camel case
// of the file's base name plus "Object": `sluice_steer.bpf.c` → `sluiceSteerObject`.

import Foundation
import PackagePlugin

@main
struct BPFPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let programs = try files(in: root.appending(path: "Sources/BPF"), endingWith: ".bpf.c")
        let headers =
            try files(in: root.appending(path: "Sources/BPF"), endingWith: ".h")
            + files(in: root.appending(path: "Sources/CXDP"), endingWith: ".h")
        let clang = try context.tool(named: "clang").url
        let embed = try context.tool(named: "bpf-embed").url
        let objcopy = try? context.tool(named: "llvm-objcopy").url

        return programs.map { program in
            let base = String(program.lastPathComponent.dropLast(".bpf.c".count))
            let output = context.pluginWorkDirectoryURL.appending(path: "\(base).swift")
            var arguments = [clang.path, program.path, output.path, symbolName(base)]
            if let objcopy { arguments.append(objcopy.path) }
            return .buildCommand(
                displayName: "Compiling BPF program \(program.lastPathComponent)",
                executable: embed,
                arguments: arguments,
                inputFiles: [program] + headers,
                outputFiles: [output]
            )
        }
    }

    private func files(in directory: URL, endingWith suffix: String) throws -> [URL] {
        guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasSuffix(suffix) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    private func symbolName(_ base: String) -> String {
        let words = base.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        guard let first = words.first else { return "bpfObject" }
        return first.lowercased() + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
            + "Object"
    }
}
