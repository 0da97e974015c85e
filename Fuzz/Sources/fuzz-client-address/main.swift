// fuzz-client-address: the PROXY protocol parser and the TOA/PROXY writers (ClientAddressHarness).

import Foundation
import FuzzSupport

exit(
    FuzzDriver.run(argc: CommandLine.argc, argv: CommandLine.unsafeArgv, seeds: ClientAddressHarness.seeds) {
        data, count in
        ClientAddressHarness.run(input: FuzzDriver.bytes(data, count))
        return 0
    })
