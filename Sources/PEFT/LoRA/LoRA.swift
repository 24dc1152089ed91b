import Foundation
import PEFTNN
import PEFTTensor

/// Low-rank adaptation (Hu et al., 2021) and its variants rsLoRA, DoRA, PiSSA and OLoRA, as PEFT
/// implements them.
public enum LoRA: PEFTMethod {
    /// PEFT's default LoRA targets per model family.
    public static let defaultTargets: [String: [String]] = ["gpt2": ["c_attn"], "t5": ["q", "v"]]

    /// Wraps every targeted layer in ``LoRALinear`` or ``LoRAEmbedding`` and adds the adapter to it.
    public static func apply(
        _ configuration: inout LoRAConfiguration, to model: Module, adapterName: String,
        modelType: String?
    ) throws -> (any PromptLearningEncoder)? {
        try configuration.validate()
        let targets = try resolvedTargets(configuration.targets, modelType: modelType)
        let paths = try matchedPaths(in: model, targets: targets, configuration: configuration)
        for path in paths {
            let module = try model.module(at: path)
            let layer: Module
            if module is LoRALinear || module is LoRAEmbedding {
                layer = module
            } else if let linear = module as? any LinearLayer {
                layer = LoRALinear(wrapping: linear)
                try model.replaceModule(at: path, with: layer)
            } else if let embedding = module as? Embedding {
                layer = LoRAEmbedding(wrapping: embedding)
                try model.replaceModule(at: path, with: layer)
            } else {
                throw AdapterError.unsupportedTarget(path: path, type: "\(type(of: module))")
            }
            if let linear = layer as? LoRALinear {
                if linear.base is Conv1D { configuration.fanInFanOut = true }
                guard !linear.adapterNames.contains(adapterName) else {
                    throw AdapterError.duplicateAdapter(adapterName)
                }
                linear.add(
                    adapterName,
                    factors: try makeFactors(for: linear, path: path, configuration: configuration))
            } else if let embedding = layer as? LoRAEmbedding {
                guard !embedding.adapterNames.contains(adapterName) else {
                    throw AdapterError.duplicateAdapter(adapterName)
                }
                embedding.add(
                    adapterName,
                    factors: makeEmbeddingFactors(
                        for: embedding, path: path, configuration: configuration))
            }
        }
        return nil
    }

    /// The adapter's factors, the biases `bias` asks for, keyed as PEFT saves them.
    public static func adapterTensors(
        in model: Module, adapterName: String, configuration: LoRAConfiguration
    ) -> [(key: String, parameter: Parameter)] {
        var result: [(key: String, parameter: Parameter)] = []
        for (path, module) in model.namedModules() {
            guard let layer = module as? any AdapterLayer, layer.adapterNames.contains(adapterName)
            else { continue }
            for (key, parameter) in layer.adapterParameters(named: adapterName) {
                result.append((AdapterFolder.keyPrefix + "\(path).\(key)", parameter))
            }
            if configuration.bias == .loraOnly, let linear = layer as? LoRALinear,
                let bias = linear.baseWeight.bias
            {
                result.append((AdapterFolder.keyPrefix + "\(path).base_layer.bias", bias))
            }
        }
        if configuration.bias == .all {
            for (path, parameter) in model.namedParameters()
            where path.hasSuffix(".bias") || path == "bias" {
                result.append((AdapterFolder.keyPrefix + path, parameter))
            }
        }
        return result
    }

    static func resolvedTargets(_ targets: TargetModules, modelType: String?) throws
        -> TargetModules
    {
        guard case .automatic = targets else { return targets }
        guard let modelType, let names = defaultTargets[modelType] else {
            throw AdapterError.invalidConfiguration(
                key: "target_modules",
                reason: "no default targets for model type '\(modelType ?? "unknown")'; name them")
        }
        return .suffixes(names)
    }

    /// The paths of the modules the configuration targets, in tree order.
    static func matchedPaths(
        in model: Module, targets: TargetModules, configuration: LoRAConfiguration
    ) throws -> [String] {
        try matchModules(
            in: model, targets: targets, excluded: configuration.excludedModules,
            layersToTransform: configuration.layersToTransform,
            layersPattern: configuration.layersPattern
        ) { $0 is any LinearLayer || $0 is Embedding || $0 is LoRAEmbedding }
    }

    /// A seed that depends only on the module path, so initialisation is reproducible across runs.
    static func seed(for path: String, adapterName: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (adapterName + "/" + path).utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    static func makeFactors(for layer: LoRALinear, path: String, configuration: LoRAConfiguration)
        throws
        -> LoRAFactors
    {
        let rank = configuration.rank(for: path)
        let (inputs, outputs) = (layer.inputFeatures, layer.outputFeatures)
        let scaling = configuration.scaling(for: path)
        var generator = RandomGenerator(seed: seed(for: path, adapterName: "\(configuration.rank)"))
        let kaimingBound = 1 / Float(inputs).squareRoot()
        var down = Tensor.uniform(
            [rank, inputs], in: -kaimingBound..<kaimingBound, using: &generator)
        var up = Tensor.zeros([outputs, rank])
        switch configuration.initialization {
        case .standard: break
        case .random:
            let bound = 1 / Float(rank).squareRoot()
            up = Tensor.uniform([outputs, rank], in: -bound..<bound, using: &generator)
        case .gaussian:
            down = Tensor.normal(
                [rank, inputs], standardDeviation: 1 / Float(rank), using: &generator)
        case .pissa, .olora:
            (down, up) = try layer.initializeFromWeight(
                rank: rank, scaling: scaling, usingSVD: configuration.initialization == .pissa)
        }
        var magnitude: Tensor?
        if configuration.useDoRA {
            magnitude = withoutGradients {
                rowNorms(layer.baseWeightOutputsByInputs() + matmul(up, down) * scaling)
            }
        }
        return LoRAFactors(
            down: down, up: up, magnitude: magnitude, scaling: scaling,
            dropout: configuration.dropout,
            seed: seed(for: path, adapterName: "dropout"))
    }

    static func makeEmbeddingFactors(
        for layer: LoRAEmbedding, path: String, configuration: LoRAConfiguration
    )
        -> LoRAFactors
    {
        let rank = configuration.rank(for: path)
        var generator = RandomGenerator(seed: seed(for: path, adapterName: "embedding"))
        let up = Tensor.normal([layer.dimension, rank], using: &generator)
        let down =
            configuration.initialization == .random
            ? Tensor.normal([rank, layer.count], using: &generator)
            : Tensor.zeros([rank, layer.count])
        return LoRAFactors(
            down: down, up: up, magnitude: nil, scaling: configuration.scaling(for: path),
            dropout: configuration.dropout,
            seed: 0)
    }
}

extension LoRALinear {
    /// PiSSA (SVD) or OLoRA (QR) factors from the base weight, which keeps `W − s·B·A`.
    func initializeFromWeight(rank: Int, scaling: Float, usingSVD: Bool) throws -> (
        down: Tensor, up: Tensor
    ) {
        let weight = baseWeightOutputsByInputs()
        precondition(
            rank <= min(weight.shape[0], weight.shape[1]),
            "LoRA: rank \(rank) exceeds the weight \(weight.shape)")
        let down: Tensor
        let up: Tensor
        if usingSVD {
            let svd = try weight.singularValueDecomposition()
            let root = sqrt(
                svd.singularValues.narrowed(alongAxis: 0, start: 0, length: rank) / scaling)
            down =
                svd.vTransposed.narrowed(alongAxis: 0, start: 0, length: rank)
                * root.reshaped(to: [rank, 1])
            up = svd.u.narrowed(alongAxis: 1, start: 0, length: rank) * root
        } else {
            let qr = try weight.qrDecomposition()
            down = qr.r.narrowed(alongAxis: 0, start: 0, length: rank)
            up = qr.q.narrowed(alongAxis: 1, start: 0, length: rank)
        }
        let residual = withoutGradients { weight - matmul(up, down) * scaling }
        let (parameter, layout, _) = baseWeight
        parameter.assign(
            layout == .outputsByInputs ? residual : withoutGradients { residual.transposed() })
        return (down, up)
    }
}
