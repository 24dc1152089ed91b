import Foundation
import PEFTNN
import PEFTTensor

/// AdaLoRA's budget allocation, PEFT 0.21's `RankAllocator` with `AdaLoraModel.update_and_allocate`:
/// after each optimizer step it smooths every adapter entry's sensitivity `|w·∂L/∂w|` and its
/// uncertainty, ranks each layer's triplets `(A_i, E_i, B_i)` across all layers by
/// `s(E_i) + mean_j s(A_ij) + mean_j s(B_ji)`, and zeroes the `E_i` of all but the budget's best.
///
/// The budget falls from Σ `init_r` to `target_r` per layer along a cubic between `tinit` and
/// `total_step − tfinal`, masking every `deltaT` steps; at `total_step − tfinal` a last mask fixes the
/// pattern (``AdaLoRAConfiguration/rankPattern``), which later steps re-apply. Call
/// ``optimizerDidStep(_:)`` after `optimizer.step()` and before the gradients are zeroed.
public final class RankAllocator: TrainingStepHook {
    /// The adapter whose ranks are allocated.
    public let adapterName: String
    /// The adapter's configuration, with the rank pattern of the last mask.
    public private(set) var configuration: AdaLoRAConfiguration
    /// Σ of the layers' ranks when the allocator was made (PEFT's `init_bgt`).
    public let initialBudget: Int
    /// `target_r` times the number of layers (PEFT's `target_bgt`).
    public let targetBudget: Int
    /// The adapter's layers by path, in tree order.
    let layers: [(path: String, triplets: AdaLoRATriplets)]
    /// The smoothed sensitivity and uncertainty of every adapter tensor, by parameter.
    private var smoothing: [ObjectIdentifier: Smoothing] = [:]
    private let record: (AdaLoRAConfiguration) -> Void

    /// An allocator for `adapterName`'s layers in `model`; `record` receives the configuration each
    /// time the rank pattern changes.
    public init(
        model: Module, adapterName: String, configuration: AdaLoRAConfiguration,
        record: @escaping (AdaLoRAConfiguration) -> Void = { _ in }
    ) throws {
        try configuration.validate()
        self.adapterName = adapterName
        self.configuration = configuration
        self.record = record
        layers = model.namedModules().compactMap { path, module in
            (module as? AdaLoRALinear)?.adapters[adapterName].map { (path, $0) }
        }
        // A loaded adapter cut to its rank pattern has lost the masked triplets and the masks no
        // longer index its rows; PEFT's allocator cannot continue from one either.
        if let cut = layers.first(where: { $0.triplets.rank != configuration.initialRank }) {
            throw AdapterError.invalidState(
                "AdaLoRA adapter '\(adapterName)' was cut to its rank pattern (\(cut.path) has rank "
                    + "\(cut.triplets.rank), init_r is \(configuration.initialRank)); rank allocation "
                    + "cannot continue from it: train from a full-rank adapter")
        }
        initialBudget = layers.reduce(0) { $0 + $1.triplets.rank }
        targetBudget = configuration.targetRank * layers.count
    }

    private var totalSteps: Int { configuration.totalSteps! }
    private var finalPhaseStart: Int { totalSteps - configuration.finalSteps }

    /// The budget at `step` and whether the step masks (PEFT's `budget_schedule`).
    public func budget(atStep step: Int) -> (budget: Int, masks: Bool) {
        let warmup = configuration.initialWarmupSteps
        if step <= warmup { return (initialBudget, false) }
        if step > finalPhaseStart { return (targetBudget, true) }
        let remaining = 1 - Double(step - warmup) / Double(finalPhaseStart - warmup)
        let budget = Int(
            Double(initialBudget - targetBudget) * pow(remaining, 3) + Double(targetBudget))
        return (budget, step % configuration.allocationInterval == 0)
    }

    /// PEFT's `update_and_allocate(step)`: before the final phase, update the scores and mask on
    /// schedule; at its first step, mask to the target budget, keep the pattern and forget the
    /// scores; after it, re-apply the kept pattern.
    public func update(step: Int) {
        if step < finalPhaseStart {
            updateScores()
            let (budget, masks) = budget(atStep: step)
            if masks { store(mask(toBudget: budget)) }
        } else if step == finalPhaseStart {
            store(mask(toBudget: budget(atStep: step).budget))
            smoothing = [:]
        } else if let pattern = configuration.rankPattern {
            for (path, triplets) in layers {
                guard let keep = pattern["\(path).lora_E"] else { continue }
                zeroSingularValues(of: triplets) { !keep[$0] }
            }
        }
    }

    /// ``update(step:)``.
    public func optimizerDidStep(_ step: Int) throws { update(step: step) }

    /// The weighted orthogonal regulariser over the adapter's `lora_A` and `lora_B`, or `nil` when
    /// `orth_reg_weight` is 0.
    public func additionalLoss() -> Tensor? {
        let weight = configuration.orthogonalRegularizationWeight
        guard weight > 0, !layers.isEmpty else { return nil }
        return orthogonalRegularization(
            downs: layers.map(\.triplets.down.value), ups: layers.map(\.triplets.up.value)) * weight
    }

    /// Every layer's triplet scores from the current smoothed sensitivities, by path (PEFT's
    /// `triplet_ipt`); zero before the first update.
    public var tripletScores: [String: [Float]] {
        Dictionary(uniqueKeysWithValues: layers.map { ($0.path, scores(of: $0.triplets)) })
    }

    private func store(_ pattern: [String: [Bool]]) {
        configuration.rankPattern = pattern
        record(configuration)
    }

    /// `Ī ← β₁Ī + (1−β₁)·|w·g|`, then `Ū ← β₂Ū + (1−β₂)·||w·g| − Ī|` for every adapter entry, in
    /// float32 as PEFT computes them (the coefficients rounded once from double, as PyTorch rounds a
    /// Python float).
    private func updateScores() {
        let beta1 = configuration.sensitivityMomentum
        let beta2 = configuration.uncertaintyMomentum
        let (keep1, take1) = (Float(beta1), Float(1 - beta1))
        let (keep2, take2) = (Float(beta2), Float(1 - beta2))
        for (_, triplets) in layers {
            for parameter in [triplets.down, triplets.up, triplets.singularValues] {
                let id = ObjectIdentifier(parameter)
                var state = smoothing[id] ?? Smoothing(count: parameter.count)
                let value = parameter.value.storage.buffer
                let gradient = parameter.gradient?.storage.buffer
                state.sensitivity.withUnsafeMutableBufferPointer { sensitivity in
                    state.uncertainty.withUnsafeMutableBufferPointer { uncertainty in
                        for index in 0..<value.count {
                            let importance = abs(value[index] * (gradient?[index] ?? 0))
                            let smoothed = keep1 * sensitivity[index] + take1 * importance
                            sensitivity[index] = smoothed
                            uncertainty[index] =
                                keep2 * uncertainty[index] + take2 * abs(importance - smoothed)
                        }
                    }
                }
                smoothing[id] = state
            }
        }
    }

    /// `s = Ī·Ū` for every entry of `parameter` (zero before any update).
    private func elementScores(_ parameter: Parameter) -> [Float] {
        guard let state = smoothing[ObjectIdentifier(parameter)] else {
            return [Float](repeating: 0, count: parameter.count)
        }
        return zip(state.sensitivity, state.uncertainty).map { $0 * $1 }
    }

    /// `s(E_i) + (mean_j s(A_ij) + mean_j s(B_ji))`, summed in that order as PEFT does.
    private func scores(of triplets: AdaLoRATriplets) -> [Float] {
        let rank = triplets.rank
        let inputs = triplets.down.shape[1]
        let outputs = triplets.up.shape[0]
        let down = elementScores(triplets.down)
        let up = elementScores(triplets.up)
        let values = elementScores(triplets.singularValues)
        return (0..<rank).map { i in
            var rowSum: Double = 0
            for j in 0..<inputs { rowSum += Double(down[i * inputs + j]) }
            var columnSum: Double = 0
            for j in 0..<outputs { columnSum += Double(up[j * rank + i]) }
            let meanDown = Float(rowSum) / Float(max(inputs, 1))
            let meanUp = Float(columnSum) / Float(max(outputs, 1))
            return values[i] + (meanDown + meanUp)
        }
    }

    /// Zeroes every `E_i` whose score is at most the `(initialBudget − budget)`-th smallest over all
    /// layers (PEFT's `mask_to_budget`, ties included), and returns the keep-masks.
    ///
    /// PEFT's `torch.kthvalue` raises when the budget is not below the initial one (`init_r ≤
    /// target_r`); here nothing is masked then.
    private func mask(toBudget budget: Int) -> [String: [Bool]] {
        let scored = layers.map { ($0.path, $0.triplets, scores(of: $0.triplets)) }
        let all = scored.flatMap(\.2).sorted()
        let k = min(initialBudget - budget, all.count)
        let threshold = k > 0 ? all[k - 1] : -Float.infinity
        var pattern: [String: [Bool]] = [:]
        for (path, triplets, scores) in scored {
            zeroSingularValues(of: triplets) { scores[$0] <= threshold }
            pattern["\(path).lora_E"] = scores.map { $0 > threshold }
        }
        return pattern
    }

    /// Sets `E_i` to zero where `masked(i)`, in place as PEFT's `masked_fill_`: the gradient and the
    /// optimizer's state stay.
    private func zeroSingularValues(of triplets: AdaLoRATriplets, where masked: (Int) -> Bool) {
        triplets.singularValues.updateInPlace { values in
            for index in values.indices where masked(index) { values[index] = 0 }
        }
    }
}

/// One tensor's exponential moving averages: PEFT's `exp_avg_ipt` and `exp_avg_unc`.
private struct Smoothing {
    var sensitivity: [Float]
    var uncertainty: [Float]

    init(count: Int) {
        sensitivity = [Float](repeating: 0, count: count)
        uncertainty = sensitivity
    }
}

extension PEFTModel {
    /// A ``RankAllocator`` for the active AdaLoRA adapter that records its rank pattern here, for a
    /// training loop of one's own; throws when the active adapter is not AdaLoRA.
    public func rankAllocator() throws -> RankAllocator {
        guard let name = activeAdapter,
            let configuration = configurations[name] as? AdaLoRAConfiguration
        else {
            throw AdapterError.invalidState("the active adapter is not an AdaLoRA adapter")
        }
        return try RankAllocator(model: base, adapterName: name, configuration: configuration) {
            [weak self] in self?.configurations[name] = $0
        }
    }
}
