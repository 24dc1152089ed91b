import Foundation
import PEFTNN
import PEFTTensor

/// Low-rank adaptation (Hu et al., 2021) and its variants rsLoRA, DoRA, PiSSA and OLoRA, as PEFT
/// implements them.
public enum LoRA: PEFTMethod {
    /// Wraps every targeted layer in ``LoRALinear`` or ``LoRAEmbedding`` and adds the adapter to it.
    public static func apply(_ configuration: inout LoRAConfiguration, in context: AdapterContext)
        throws -> AdapterAttachment
    {
        try configuration.validate()
        let targets = try context.resolvedTargets(
            configuration.targets, peftType: LoRAConfiguration.peftType)
        // Saved resolved, as PEFT saves them, so the file names the modules it adapts.
        configuration.targets = targets
        let paths = try context.matchModules(
            targets, excluded: configuration.excludedModules,
            layersToTransform: configuration.layersToTransform,
            layersPattern: configuration.layersPattern
        ) { $0 is any LinearLayer || $0 is Embedding || $0 is LoRAEmbedding }
        let model = context.model
        if configuration.initialization == .pissa || configuration.initialization == .olora {
            try checkWeightRanks(paths: paths, in: model, configuration: configuration)
        }
        for path in paths {
            let module = try model.module(at: path)
            switch module {
            case let layer as LoRALinear:
                try add(to: layer, path: path, &configuration, context)
            case let layer as LoRAEmbedding:
                try add(to: layer, path: path, configuration, context)
            case let linear as any LinearLayer:
                let layer = LoRALinear(wrapping: linear)
                try model.replaceModule(at: path, with: layer)
                try add(to: layer, path: path, &configuration, context)
            case let embedding as Embedding:
                let layer = LoRAEmbedding(wrapping: embedding)
                try model.replaceModule(at: path, with: layer)
                try add(to: layer, path: path, configuration, context)
            default:
                throw AdapterError.unsupportedTarget(path: path, type: "\(type(of: module))")
            }
        }
        if let indices = configuration.trainableTokenIndices {
            try addTrainableTokens(indices, in: context)
        }
        return .none
    }

    /// PiSSA and OLoRA take each layer's top `r` directions and rewrite its weight, layer by layer;
    /// every layer must have `r` of them, checked before the first is rewritten so that a refusal
    /// leaves the base as it was.
    private static func checkWeightRanks(
        paths: [String], in model: Module, configuration: LoRAConfiguration
    ) throws {
        for path in paths {
            guard let layer = try model.module(at: path) as? any LinearLayer else { continue }
            let rank = configuration.rank(for: path)
            let available = min(layer.inputFeatures, layer.outputFeatures)
            guard rank <= available else {
                throw AdapterError.invalidConfiguration(
                    key: "r",
                    reason:
                        "\(configuration.initialization == .pissa ? "PiSSA" : "OLoRA") takes \(rank) "
                        + "directions from '\(path)' [\(layer.inputFeatures) → "
                        + "\(layer.outputFeatures)], which has only \(available)")
            }
        }
    }

    private static func add(
        to layer: LoRALinear, path: String, _ configuration: inout LoRAConfiguration,
        _ context: AdapterContext
    ) throws {
        if layer.base is Conv1D { configuration.fanInFanOut = true }
        try layer.adapters.add(
            context.adapterName,
            makeFactors(for: layer, path: path, configuration: configuration, context: context))
    }

    private static func add(
        to layer: LoRAEmbedding, path: String, _ configuration: LoRAConfiguration,
        _ context: AdapterContext
    ) throws {
        guard !configuration.useDoRA else {
            throw AdapterError.invalidConfiguration(
                key: "use_dora",
                reason:
                    "DoRA on the embedding '\(path)' is not supported; exclude it or drop use_dora")
        }
        try layer.adapters.add(
            context.adapterName,
            makeEmbeddingFactors(
                for: layer, path: path, configuration: configuration, context: context))
    }

    /// The adapter's factors, the biases `bias` asks for, keyed as PEFT saves them.
    public static func adapterTensors(
        in model: Module, adapterName: String, configuration: LoRAConfiguration
    ) -> [(key: String, parameter: Parameter)] {
        layerTensors(in: model, adapterName: adapterName)
            + biasTensors(
                in: model, adapterName: adapterName, wrappedLayers: configuration.bias == .loraOnly,
                allBiases: configuration.bias == .all)
    }

    /// LoRA folds into the base weights.
    public static var mergesIntoBase: Bool { true }

    static func makeFactors(
        for layer: LoRALinear, path: String, configuration: LoRAConfiguration,
        context: AdapterContext
    ) throws -> LoRAFactors {
        let rank = configuration.rank(for: path)
        let (inputs, outputs) = (layer.inputFeatures, layer.outputFeatures)
        let scaling = configuration.scaling(for: path)
        var generator = RandomGenerator(seed: context.seed(for: path, purpose: "lora"))
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
            seed: context.seed(for: path, purpose: "lora_dropout"))
    }

    static func makeEmbeddingFactors(
        for layer: LoRAEmbedding, path: String, configuration: LoRAConfiguration,
        context: AdapterContext
    ) -> LoRAFactors {
        let rank = configuration.rank(for: path)
        var generator = RandomGenerator(seed: context.seed(for: path, purpose: "lora_embedding"))
        let up = Tensor.normal([layer.dimension, rank], using: &generator)
        let down =
            configuration.initialization == .random
            ? Tensor.normal([rank, layer.count], using: &generator)
            : Tensor.zeros([rank, layer.count])
        return LoRAFactors(
            target: .embedding, down: down, up: up, magnitude: nil,
            scaling: configuration.scaling(for: path), dropout: configuration.dropout,
            seed: context.seed(for: path, purpose: "lora_dropout"))
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
