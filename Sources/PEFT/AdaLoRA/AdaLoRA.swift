import Foundation
import PEFTNN
import PEFTTensor

/// Adaptive budget allocation for LoRA (Zhang et al., 2023), as PEFT 0.21 implements it: every
/// targeted layer gets an update in SVD form, `B·(A ⊙ E)`, and during training ``RankAllocator``
/// masks the singular values whose triplets matter least, so the rank budget shrinks from `init_r`
/// per layer to `target_r` on average and flows to the layers that need it.
///
/// A saved adapter holds only the kept ranks (`rank_pattern` in its configuration says which), and
/// loading one resizes the layers to them first, as PEFT's `resize_modules_by_rank_pattern` does.
public enum AdaLoRA: PEFTMethod {
    /// Wraps every targeted `Linear` or GPT-2 `Conv1D` in ``AdaLoRALinear`` and adds the adapter's
    /// triplets at rank `init_r` (or, when loading an adapter with a rank pattern, at its kept ranks).
    public static func apply(
        _ configuration: inout AdaLoRAConfiguration, in context: AdapterContext
    )
        throws -> AdapterAttachment
    {
        try configuration.validate()
        let targets = try context.resolvedTargets(
            configuration.targets, peftType: AdaLoRAConfiguration.peftType)
        configuration.targets = targets
        let paths = try context.matchModules(
            targets, excluded: configuration.excludedModules,
            layersToTransform: configuration.layersToTransform,
            layersPattern: configuration.layersPattern
        ) { $0 is any LinearLayer }
        let wrappers = try context.linearWrappers(at: paths, make: AdaLoRALinear.init(wrapping:))
        configuration.rankPattern = configuration.rankPattern.map {
            withoutAdapterName($0, adapterName: context.adapterName)
        }
        let wrapped = Set(paths.map { "\($0).lora_E" })
        if let unknown = configuration.rankPattern?.keys.sorted().first(where: {
            !wrapped.contains($0)
        }) {
            throw AdapterError.invalidConfiguration(
                key: "rank_pattern.\(unknown)", reason: "names no layer this adapter wraps")
        }
        // PEFT sets fan_in_fan_out for Conv1D and clears it for nn.Linear.
        configuration.fanInFanOut = wrappers.wrapsConv1D
        try context.install(wrappers)
        for (path, wrapper) in wrappers.layers {
            try wrapper.adapters.add(
                context.adapterName,
                makeTriplets(
                    for: wrapper, path: path, configuration: configuration, context: context))
        }
        return .none
    }

    /// PEFT keeps the adapter name in the keys while training (`….lora_E.default`) and drops it when
    /// it saves; either form is read.
    private static func withoutAdapterName(_ pattern: [String: [Bool]], adapterName: String)
        -> [String: [Bool]]
    {
        let suffix = "lora_E.\(adapterName)"
        return Dictionary(
            pattern.map {
                ($0.hasSuffix(suffix) ? String($0.dropLast(adapterName.count + 1)) : $0, $1)
            },
            uniquingKeysWith: { first, _ in first })
    }

    private static func makeTriplets(
        for layer: AdaLoRALinear, path: String, configuration: AdaLoRAConfiguration,
        context: AdapterContext
    ) -> AdaLoRATriplets {
        var rank = configuration.initialRank
        var rankNumber = Float(rank)
        // PEFT resizes to the kept ranks only when it loads weights; ranknum keeps init_r (0 for a
        // layer that kept nothing), so the kept triplets scale as they did before the cut.
        if context.weightsWillBeLoaded, let mask = configuration.rankMask(forLayerAt: path) {
            rank = mask.filter { $0 }.count
            if rank == 0 { rankNumber = 0 }
        }
        var generator = RandomGenerator(seed: context.seed(for: path, purpose: "adalora"))
        let (inputs, outputs) = (layer.inputFeatures, layer.outputFeatures)
        let down: Tensor
        let singularValues: Tensor
        let up: Tensor
        if configuration.initializesWeights {
            down = Tensor.normal([rank, inputs], standardDeviation: 0.02, using: &generator)
            singularValues = Tensor.zeros([rank, 1])
            up = Tensor.normal([outputs, rank], standardDeviation: 0.02, using: &generator)
        } else {
            down = Tensor.normal([rank, inputs], using: &generator)
            singularValues = Tensor.normal([rank, 1], using: &generator)
            up = Tensor.normal([outputs, rank], using: &generator)
        }
        return AdaLoRATriplets(
            down: down, singularValues: singularValues, up: up,
            scaling: configuration.alpha > 0 ? configuration.alpha : Float(rank),
            rankNumber: rankNumber, dropout: configuration.dropout,
            seed: context.seed(for: path, purpose: "lora_dropout"))
    }

    /// The adapter's triplets and the biases `bias` asks for, keyed as PEFT saves them.
    ///
    /// A layer still at full rank whose ``AdaLoRAConfiguration/rankPattern`` masks some triplets
    /// gives copies holding only the kept ones (rows of `lora_A` and `lora_E`, columns of `lora_B`),
    /// as PEFT's `resize_state_dict_by_rank_pattern` writes them.
    public static func adapterTensors(
        in model: Module, adapterName: String, configuration: AdaLoRAConfiguration
    ) -> [(key: String, parameter: Parameter)] {
        var result: [(key: String, parameter: Parameter)] = []
        for (path, module) in model.namedModules() {
            guard let layer = module as? AdaLoRALinear, let triplets = layer.adapters[adapterName]
            else { continue }
            let prefix = AdapterFolder.keyPrefix + path + "."
            if let mask = configuration.rankMask(forLayerAt: path), triplets.rank == mask.count,
                mask.contains(false)
            {
                let kept = mask.indices.filter { mask[$0] }
                let (down, up, values) = withoutGradients {
                    (
                        gatherRows(triplets.down.value, indices: kept),
                        gatherRows(triplets.up.value.transposed(), indices: kept).transposed(),
                        gatherRows(triplets.singularValues.value, indices: kept)
                    )
                }
                result += [
                    (prefix + "lora_A", Parameter(down, trainable: false)),
                    (prefix + "lora_B", Parameter(up, trainable: false)),
                    (prefix + "lora_E", Parameter(values, trainable: false)),
                ]
            } else {
                result += triplets.tensors.map { (prefix + $0.key, $0.parameter) }
            }
        }
        return result
            + biasTensors(
                in: model, adapterName: adapterName, wrappedLayers: configuration.bias == .loraOnly,
                allBiases: configuration.bias == .all)
    }

    /// AdaLoRA's update folds into the base weights.
    public static var mergesIntoBase: Bool { true }

    /// The adapter's ``RankAllocator``: the orthogonal regulariser on every micro-batch's loss and
    /// `update_and_allocate` after every optimizer step.
    public static func trainingStepHook(
        in model: Module, adapterName: String, configuration: AdaLoRAConfiguration,
        record: @escaping (AdaLoRAConfiguration) -> Void
    ) throws -> (any TrainingStepHook)? {
        try RankAllocator(
            model: model, adapterName: adapterName, configuration: configuration, record: record)
    }
}
