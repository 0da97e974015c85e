// The bridge to libFuzzer. SwiftPM renames an executable's entry point to `<target>_main` and points
// `main` at it, so each target defines that symbol and calls `FuzzDriver.run`, which hands libFuzzer's
// driver (LLVMFuzzerRunDriver) the target's callback. The one raw pointer of the harness is libFuzzer's
// input buffer, copied into an array before anything reads it. `--write-seeds DIR` writes the target's
// seed corpus instead of fuzzing.

import Foundation

@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Runs a fuzz target.
public enum FuzzDriver {
    /// Fuzzes with `callback`, or writes `seeds()` when the first argument is `--write-seeds DIR`.
    public static func run(
        argc: CInt, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
        seeds: () -> [(name: String, bytes: [UInt8])],
        callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt {
        let arguments = CommandLine.arguments
        if arguments.count == 3 && arguments[1] == "--write-seeds" {
            let directory = URL(fileURLWithPath: arguments[2])
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for seed in seeds() {
                try? Data(seed.bytes).write(to: directory.appendingPathComponent(seed.name))
            }
            print("wrote \(seeds().count) seeds to \(directory.path)")
            return 0
        }
        var count = argc
        var vector = argv
        return llvmFuzzerRunDriver(&count, &vector, callback)
    }

    /// libFuzzer's input as an array.
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ count: Int) -> [UInt8] {
        guard let data, count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: count))
    }
}
