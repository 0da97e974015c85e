// fuzz-dataplane: every input is a fresh data plane fed a sequence of frames (DataplaneHarness).

import Foundation
import FuzzSupport

exit(
    FuzzDriver.run(argc: CommandLine.argc, argv: CommandLine.unsafeArgv, seeds: DataplaneHarness.seeds) { data, count in
        var harness = DataplaneHarness()
        harness.run(input: FuzzDriver.bytes(data, count))
        return 0
    })
