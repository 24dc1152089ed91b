/// Time spent in training steps alone, so that what runs between steps (evaluation, checkpoints,
/// speed probes) does not count as training time.
///
/// ```swift
/// var timer = StepTimer()
/// for step in 1...steps {
///     let stepStart = timer.now
///     trainOneStep()
///     timer.recordStep(startedAt: stepStart)
///     if step % 50 == 0 { evaluate() }  // not timed
/// }
/// print(timer.secondsPerStep ?? 0)
/// ```
public struct StepTimer<TimingClock: Clock> where TimingClock.Duration == Duration {
    /// The clock that times the steps.
    public let clock: TimingClock
    /// Seconds the recorded steps took.
    public private(set) var seconds: Double = 0
    /// Steps recorded.
    public private(set) var steps = 0

    /// A timer reading `clock`.
    public init(clock: TimingClock) {
        self.clock = clock
    }

    /// The clock's current instant, where a step starts.
    public var now: TimingClock.Instant { clock.now }

    /// Counts one step that started at `start` and ends now.
    public mutating func recordStep(startedAt start: TimingClock.Instant) {
        seconds += start.duration(to: clock.now).seconds
        steps += 1
    }

    /// The mean duration of a timed step, or nil when no step was timed.
    public var secondsPerStep: Double? {
        steps == 0 ? nil : seconds / Double(steps)
    }
}

extension StepTimer where TimingClock == ContinuousClock {
    /// A timer reading the continuous clock.
    public init() {
        self.init(clock: ContinuousClock())
    }
}
