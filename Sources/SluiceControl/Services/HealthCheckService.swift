// Runs every real server's checks and reports the results to the control plane. Each checked server
// has a task of its own: the first check runs at once (a new server is down until it proves itself),
// the next after one interval plus a phase that spreads the servers started together over the
// interval, then every interval after the previous deadline (a slow check does not pile checks up).
// A reload yields on `ControlPlane.targetChanges`: tasks of removed servers and of servers whose
// check changed are cancelled, new ones started; unchanged servers keep running undisturbed.

import Logging
import ServiceLifecycle

/// The health checker, as a service.
public struct HealthCheckService<C: Clock>: Service where C.Duration == Duration {
    let control: ControlPlane
    let probe: any HealthProbe
    let clock: C

    public init(control: ControlPlane, probe: any HealthProbe, clock: C) {
        self.control = control
        self.probe = probe
        self.clock = clock
    }

    public func run() async {
        var running: [RealServerID: (target: CheckTarget, task: Task<Void, Never>)] = [:]
        func synchronise() async {
            let targets = await control.checkTargets()
            for (id, entry) in running where targets[id] != entry.target {
                entry.task.cancel()
                running[id] = nil
            }
            let fresh = targets.filter { running[$0.key] == nil }.sorted { $0.key.description < $1.key.description }
            for (index, (id, target)) in fresh.enumerated() {
                let phase = Duration.milliseconds(target.check.intervalMilliseconds * index / max(1, fresh.count))
                let task = Task { await checkLoop(id, target, phase: phase) }
                running[id] = (target, task)
            }
        }
        await synchronise()
        for await _ in control.targetChanges.cancelOnGracefulShutdown() { await synchronise() }
        for entry in running.values { entry.task.cancel() }
        for entry in running.values { await entry.task.value }
    }

    private func checkLoop(_ id: RealServerID, _ target: CheckTarget, phase: Duration) async {
        let interval = Duration.milliseconds(target.check.intervalMilliseconds)
        var deadline = clock.now
        var extra = phase
        while !Task.isCancelled {
            let result = await probe.check(target)
            if Task.isCancelled { return }
            await control.record(id, result)
            deadline = deadline.advanced(by: interval + extra)
            extra = .zero
            if deadline < clock.now { deadline = clock.now }
            do { try await clock.sleep(until: deadline, tolerance: nil) } catch { return }
        }
    }
}
