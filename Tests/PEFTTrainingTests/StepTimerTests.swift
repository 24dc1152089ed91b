import PEFTTraining
import Testing

/// A clock that moves only when told to, so timings are exact.
final class ManualClock: Clock, @unchecked Sendable {
    typealias Instant = ContinuousClock.Instant
    private let origin = ContinuousClock.now
    private var elapsed = Duration.zero

    var now: Instant { origin.advanced(by: elapsed) }
    var minimumResolution: Duration { .nanoseconds(1) }
    func sleep(until deadline: Instant, tolerance: Duration?) async throws {}

    func advance(by duration: Duration) {
        elapsed += duration
    }
}

@Test("The step timer counts the time inside steps only, and reports nothing before a step")
func stepTimerCountsStepsOnly() {
    let clock = ManualClock()
    var timer = StepTimer(clock: clock)
    #expect(timer.secondsPerStep == nil)
    for _ in 0..<3 {
        let start = timer.now
        clock.advance(by: .milliseconds(250))  // the step
        timer.recordStep(startedAt: start)
        clock.advance(by: .seconds(10))  // an evaluation between steps
    }
    #expect(timer.steps == 3)
    #expect(timer.seconds == 0.75)
    #expect(timer.secondsPerStep == 0.25)
}
