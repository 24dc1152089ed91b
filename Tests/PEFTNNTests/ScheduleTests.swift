import PEFTNN
import Testing

struct ScheduleTests {
    /// Expects `schedule` to give `expected[k]` at every step `k`, within 1e-6.
    func expectSchedule(_ schedule: LearningRateSchedule, matches expected: [Double]) {
        let steps = OptimizerFixture.shared.schedules.steps
        #expect(steps.count == expected.count && steps.count == 21)
        for (step, reference) in zip(steps, expected) {
            let multiplier = schedule.multiplier(atStep: step)
            #expect(
                abs(multiplier - reference) <= 1e-6,
                "step \(step): \(multiplier) vs transformers \(reference)")
        }
    }

    @Test("The constant schedule matches get_constant_schedule")
    func constant() {
        expectSchedule(.constant, matches: OptimizerFixture.shared.schedules.constant.lr)
    }

    @Test("The linear schedule matches get_linear_schedule_with_warmup at every step")
    func linearWarmupDecay() {
        let reference = OptimizerFixture.shared.schedules.linearWarmup
        let schedule = LearningRateSchedule.linearWarmupDecay(
            warmupSteps: reference.warmupSteps!, totalSteps: reference.totalSteps!)
        expectSchedule(schedule, matches: reference.lr)
    }

    @Test("The cosine schedule matches get_cosine_schedule_with_warmup at every step")
    func cosine() {
        let reference = OptimizerFixture.shared.schedules.cosineWarmup
        #expect(reference.cycles == 0.5)
        let schedule = LearningRateSchedule.cosine(
            warmupSteps: reference.warmupSteps!, totalSteps: reference.totalSteps!)
        expectSchedule(schedule, matches: reference.lr)
    }

    @Test("Past the last step the decaying schedules stay at zero")
    func pastTheEnd() {
        #expect(
            LearningRateSchedule.linearWarmupDecay(warmupSteps: 5, totalSteps: 20).multiplier(
                atStep: 25) == 0)
        #expect(
            LearningRateSchedule.cosine(warmupSteps: 5, totalSteps: 20).multiplier(atStep: 20) == 0)
    }

    @Test("The learning rate is the base rate times the multiplier")
    func learningRate() {
        let schedule = LearningRateSchedule.linearWarmupDecay(warmupSteps: 4, totalSteps: 10)
        #expect(schedule.learningRate(atStep: 2, base: 2e-4) == Float(2e-4 * 0.5))
    }
}
