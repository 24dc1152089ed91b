import PEFTNN
import PEFTTensor

/// Vector-based random matrix adaptation (Kopiczko et al., 2024), as PEFT 0.21 implements it: one
/// pair of frozen random projections shared by every targeted layer, and two small trainable vectors
/// per layer.
public enum VeRA: PEFTMethod {
    /// Wraps every targeted linear layer in ``VeRALinear``; the projections, sized by the largest
    /// targeted input and output, go beside the model as the adapter's shared module.
    public static func apply(_ configuration: inout VeRAConfiguration, in context: AdapterContext)
        throws -> AdapterAttachment
    {
        try configuration.validate()
        let targets = try context.resolvedTargets(
            configuration.targets, peftType: VeRAConfiguration.peftType)
        configuration.targets = targets
        let paths = try context.matchModules(
            targets, layersToTransform: configuration.layersToTransform,
            layersPattern: configuration.layersPattern
        ) { $0 is any LinearLayer }
        let wrappers = try context.linearWrappers(at: paths, make: VeRALinear.init(wrapping:))
        let projections = VeRAProjections(
            rank: configuration.rank,
            inputs: wrappers.layers.map(\.wrapper.inputFeatures).max()!,
            outputs: wrappers.layers.map(\.wrapper.outputFeatures).max()!,
            key: configuration.projectionPRNGKey)
        // PEFT sets fan_in_fan_out for Conv1D and clears it for nn.Linear.
        configuration.fanInFanOut = wrappers.wrapsConv1D
        try context.install(wrappers)
        for (path, wrapper) in wrappers.layers {
            try wrapper.adapters.add(
                context.adapterName,
                makeVectors(
                    for: wrapper, path: path, projections: projections,
                    configuration: configuration, context: context))
        }
        return AdapterAttachment(sharedModule: projections)
    }

    private static func makeVectors(
        for layer: VeRALinear, path: String, projections: VeRAProjections,
        configuration: VeRAConfiguration, context: AdapterContext
    ) -> VeRAVectors {
        let rank = configuration.rank
        let (lambdaB, lambdaD): (Tensor, Tensor)
        if configuration.initializesWeights {
            lambdaB = Tensor.zeros([layer.outputFeatures])
            lambdaD = Tensor.full([rank], configuration.initialD)
        } else {
            var generator = RandomGenerator(seed: context.seed(for: path, purpose: "vera"))
            lambdaB = Tensor.ones([layer.outputFeatures])
            lambdaD = Tensor.normal([rank], using: &generator)
        }
        return VeRAVectors(
            lambdaB: lambdaB, lambdaD: lambdaD, dropout: configuration.dropout,
            seed: context.seed(for: path, purpose: "vera_dropout"), projections: projections)
    }

    /// The adapter's vectors and the biases `bias` asks for, keyed as PEFT saves them (the shared
    /// projections come from the shared module).
    public static func adapterTensors(
        in model: Module, adapterName: String, configuration: VeRAConfiguration
    ) -> [(key: String, parameter: Parameter)] {
        layerTensors(in: model, adapterName: adapterName)
            + biasTensors(
                in: model, adapterName: adapterName, wrappedLayers: configuration.bias == .veraOnly,
                allBiases: configuration.bias == .all)
    }

    /// VeRA's update folds into the base weights.
    public static var mergesIntoBase: Bool { true }
}
