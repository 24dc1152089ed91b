import Foundation

/// A learning-rate multiplier by optimizer step, as Hugging Face `transformers` schedules
/// define it.
///
/// Step `k` is the `k`-th call to ``Optimizer/step()``, counting from 0; set
/// `optimizer.learningRate = schedule.learningRate(atStep: k, base: baseLearningRate)` before it.
public enum LearningRateSchedule: Hashable, Sendable {
    /// Always 1, as `get_constant_schedule`.
    case constant
    /// Rises linearly from 0 to 1 over `warmupSteps`, then falls linearly to 0 at `totalSteps`, as
    /// `get_linear_schedule_with_warmup`.
    case linearWarmupDecay(warmupSteps: Int, totalSteps: Int)
    /// Rises linearly from 0 to 1 over `warmupSteps`, then follows `cycles` periods of a cosine
    /// until `totalSteps` (half a period by default, ending at 0), as
    /// `get_cosine_schedule_with_warmup`.
    case cosine(warmupSteps: Int, totalSteps: Int, cycles: Double = 0.5)

    /// The multiplier of the base learning rate in force for optimizer step `step`.
    public func multiplier(atStep step: Int) -> Double {
        switch self {
        case .constant:
            return 1
        case .linearWarmupDecay(let warmupSteps, let totalSteps):
            if step < warmupSteps { return Double(step) / Double(max(1, warmupSteps)) }
            return max(0, Double(totalSteps - step) / Double(max(1, totalSteps - warmupSteps)))
        case .cosine(let warmupSteps, let totalSteps, let cycles):
            if step < warmupSteps { return Double(step) / Double(max(1, warmupSteps)) }
            let progress = Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
            return max(0, 0.5 * (1 + cos(Double.pi * cycles * 2 * progress)))
        }
    }

    /// `baseLearningRate` scaled by the multiplier for step `step`.
    public func learningRate(atStep step: Int, base baseLearningRate: Float) -> Float {
        Float(Double(baseLearningRate) * multiplier(atStep: step))
    }
}
