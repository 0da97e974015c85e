// `dataplane.cpus`: the workers' CPUs, read as a list of CPU numbers; a change needs a restart.

import SluiceControl
import Testing

@Suite struct DataplaneCPUsTests {
    @Test func readAndRestartOnly() throws {
        let pinned = try ConfigurationLoader.parse(yaml: Fixtures.minimal + "\ndataplane: { cpus: [1, 3] }\n")
        #expect(pinned.dataplane.cpus == [1, 3])
        let plain = try ConfigurationLoader.parse(yaml: Fixtures.minimal)
        #expect(plain.dataplane.cpus.isEmpty)
        #expect(ReloadDiff(from: plain, to: pinned).restartRequired == ["dataplane.cpus"])
        let bad = problems(Fixtures.minimal + "\ndataplane: { cpus: [1, -2] }\n")
        #expect(bad.contains { $0.keyPath == "dataplane.cpus[1]" })
    }
}
