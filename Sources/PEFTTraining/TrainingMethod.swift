import Foundation

/// The fine-tuning methods the examples, `peft train` and `peft compare` run, each with defaults that
/// suit the examples' tasks.
public enum TrainingMethod: String, CaseIterable, Sendable {
    /// LoRA on the family's default targets (or the given ones).
    case lora
    /// Every parameter trains.
    case full
    /// Prompt tuning, virtual tokens initialised from vocabulary rows.
    case prompt
    /// P-tuning with an MLP prompt encoder.
    case ptuning
    /// Prefix tuning with the reparameterisation MLP.
    case prefix
    /// IA3 on the family's default targets.
    case ia3
    /// VeRA on the family's default targets, with `--rank` as the shared projections' rank.
    case vera
    /// OFT on the family's default targets: orthogonal blocks of PEFT's default size 32 (or the
    /// nearest divisor of a narrower layer), exact Cayley transform.
    case oft
    /// LoHa on the family's default targets: a Hadamard product of two rank-`--rank` pairs.
    case loha
    /// LoKr on the family's default targets: a Kronecker product, the larger factor of rank `--rank`.
    case lokr
    /// AdaLoRA on the family's default AdaLoRA targets: `--rank` is `init_r`, two thirds of it
    /// `target_r` (PEFT's 12 → 8), and the budget schedule spans the run's steps. A run resumes
    /// only from a checkpoint saved before the first mask: the allocator's smoothed scores are not
    /// checkpointed, and a saved adapter is cut to its rank pattern.
    case adalora
    /// Houlsby bottleneck adapters, reduction factor 8.
    case adapter
    /// BitFit: the biases only.
    case bitfit
    /// Sensitivity-ranked selection: Fisher scores, 1% of the weights, element by element.
    case selective
    /// Nothing trains: the base as it is.
    case none

    /// The learning rate that suits the method when none is given.
    public var defaultLearningRate: Float {
        switch self {
        case .lora, .adapter, .selective: 3e-3
        // One vector per layer, or only the biases: few parameters that each need to move far.
        case .ia3, .bitfit: 1e-1
        // Two vectors per layer scaling frozen random projections: they move far, as IA3's do.
        case .vera: 1e-1
        // Skew-symmetric blocks start at zero (the identity rotation) and need to leave it quickly.
        case .oft: 1e-2
        // A fresh LoHa has one zero factor in a product of four, so its gradients start small.
        case .loha: 1e-2
        // A fresh LoKr's w1 is zero and each of its few entries scales a whole block of ΔW.
        case .lokr: 3e-2
        // E starts at zero and A, B near it: the update is a product of three small factors, which
        // LoRA's rate barely moves in a short run.
        case .adalora: 1e-2
        case .prompt, .ptuning, .prefix: 3e-2
        case .full: 5e-4
        case .none: 0
        }
    }

    /// The method's adapter configuration, when it has one.
    public func configuration(rank: Int, alpha: Float, targets: [String]?, virtualTokens: Int) -> (
        any PEFTConfiguration
    )? {
        switch self {
        case .lora:
            LoRAConfiguration {
                $0.rank = rank
                $0.alpha = alpha
                if let targets { $0.targets = .suffixes(targets) }
            }
        case .prompt:
            PromptTuningConfiguration(
                virtualTokens: virtualTokens, initialization: .sampleVocabulary)
        case .ptuning: PTuningConfiguration(virtualTokens: virtualTokens)
        case .prefix: PrefixTuningConfiguration(virtualTokens: virtualTokens, usesProjection: true)
        case .ia3:
            IA3Configuration {
                if let targets { $0.targets = .suffixes(targets) }
            }
        case .vera:
            VeRAConfiguration {
                $0.rank = rank
                if let targets { $0.targets = .suffixes(targets) }
            }
        case .oft:
            OFTConfiguration {
                $0.usesCayleyNeumann = false
                if let targets { $0.targets = .suffixes(targets) }
            }
        case .loha:
            LoHaConfiguration {
                $0.rank = rank
                $0.alpha = alpha
                if let targets { $0.targets = .suffixes(targets) }
            }
        case .lokr:
            LoKrConfiguration {
                $0.rank = rank
                $0.alpha = alpha
                if let targets { $0.targets = .suffixes(targets) }
            }
        case .adalora:
            AdaLoRAConfiguration {
                $0.initialRank = rank
                $0.targetRank = max(1, rank * 2 / 3)
                $0.alpha = alpha
                if let targets { $0.targets = .suffixes(targets) }
            }
        case .adapter: BottleneckConfiguration(placement: .houlsby) { $0.reductionFactor = 8 }
        case .full, .bitfit, .selective, .none: nil
        }
    }
}

/// A model with a method applied, ready to train: what runs forward, what trains, how it saves.
public struct PreparedModel {
    /// The model the method was applied to.
    public let base: Module
    /// The container of the adapter, for methods that have one.
    public let adapter: (any PEFTModelProtocol)?
    /// What runs a decoder-only model: the adapter's container, or the base itself.
    let causal: (any CausalLanguageModel)?
    /// What runs an encoder-decoder model: the adapter's container, or the base itself.
    let seq2Seq: (any Seq2SeqLanguageModel)?
    /// What runs a sequence classifier: the adapter's container, or the base itself.
    let classifier: (any SequenceClassifier)?
    /// The method.
    public let method: TrainingMethod
    /// The entries BitFit or sensitivity-ranked selection trains, and the base values they started from.
    public private(set) var selection: ParameterSelection?
    private(set) var original: [String: Tensor] = [:]

    /// Applies `method` to `base`, or with `resumingFrom`, restores the adapter (or the weights) a
    /// checkpoint saved, ready to train on. `taskType` goes into the adapter's configuration
    /// (`SEQ_CLS` makes PEFT train a classifier's head in full, as `modules_to_save`).
    public init(
        base: some AdaptableModel, method: TrainingMethod, rank: Int, alpha: Float,
        targets: [String]?, virtualTokens: Int, taskType: String? = nil,
        totalSteps: Int? = nil,
        resumingFrom checkpoint: URL? = nil, select: (() throws -> ParameterSelection)? = nil
    ) throws {
        self.base = base
        self.method = method
        var configuration = method.configuration(
            rank: rank, alpha: alpha, targets: targets, virtualTokens: virtualTokens)
        if let taskType { configuration?.taskType = taskType }
        // AdaLoRA's budget schedule spans the whole run (PEFT's total_step).
        if var adalora = configuration as? AdaLoRAConfiguration {
            adalora.scheduleBudget(totalSteps: totalSteps ?? 1)
            configuration = adalora
        }
        if let checkpoint, configuration != nil {
            adapter = try PEFTModel.load(base, from: checkpoint, isTrainable: true)
        } else if let configuration {
            adapter = try PEFTModel(base, configuration: configuration)
        } else {
            adapter = nil
        }
        causal = adapter as? any CausalLanguageModel ?? base as? any CausalLanguageModel
        seq2Seq = adapter as? any Seq2SeqLanguageModel ?? base as? any Seq2SeqLanguageModel
        classifier = adapter as? any SequenceClassifier ?? base as? any SequenceClassifier
        if adapter != nil { return }
        switch method {
        case .full:
            if let checkpoint {
                try base.loadParameters(
                    from: SafeTensorsFile(
                        contentsOf: checkpoint.appendingPathComponent("model.safetensors")))
            }
            base.unfreeze()
        case .bitfit, .selective:
            let chosen: ParameterSelection
            if let checkpoint {
                // The delta is relative to the untouched base, so its values are kept before it goes on.
                original = Dictionary(
                    uniqueKeysWithValues: base.namedParameters().map {
                        ($0.path, $0.parameter.value.copied())
                    })
                chosen = try ParameterSelection.loadDelta(from: checkpoint, into: base)
            } else {
                chosen = method == .bitfit ? try ParameterSelection.biases(in: base) : try select!()
                original = try chosen.snapshot(of: base)
            }
            try chosen.apply(to: base)
            selection = chosen
        default: base.freeze()
        }
    }

    /// The optimizer: AdamW, or for a selection one that keeps state only for the chosen entries.
    public func makeOptimizer(learningRate: Float, beta2: Float = 0.999) throws -> any Optimizer {
        if let selection {
            return try SparseAdamW(
                base, selection: selection, learningRate: learningRate, beta2: beta2,
                weightDecay: 0.01)
        }
        return AdamW(
            trainable.map(\.parameter), learningRate: learningRate, beta2: beta2, weightDecay: 0.01)
    }

    /// The names the optimizer's state is saved under, in its parameters' order.
    public var optimizerParameterNames: [String] {
        selection?.parameters.map(\.path) ?? trainable.map(\.name)
    }

    /// The parameters the optimizer updates, with the names their state is saved under.
    public var trainable: [(name: String, parameter: Parameter)] {
        if let adapter {
            let encoder = adapter.activeAdapter.flatMap { adapter.promptEncoders[$0] }
            return base.namedParameters().filter { $0.parameter.isTrainable }.map {
                ($0.path, $0.parameter)
            }
                + (encoder?.namedParameters().filter { $0.parameter.isTrainable }.map {
                    ("prompt_encoder.\($0.path)", $0.parameter)
                } ?? [])
        }
        return base.namedParameters().filter { $0.parameter.isTrainable }.map {
            ($0.path, $0.parameter)
        }
    }

    /// Reseeds every dropout layer (the base's, LoRA's and a prompt encoder's) from `seed` and its
    /// path; called each step with a seed made from the run's and the step's, a resumed run draws
    /// the masks an uninterrupted one would.
    public func reseedDropouts(seed: UInt64) {
        if let adapter {
            adapter.reseedDropouts(seed: seed)
        } else {
            base.reseedDropouts(seed: seed)
        }
    }

    /// Switches the model (and a prompt encoder) between training and evaluation.
    public func train(_ training: Bool) {
        if let adapter { adapter.train(training) } else { base.train(training) }
    }

    /// The mean loss of a batch of examples.
    public func loss(_ examples: [TextExample], tokenizer: any Tokenizer, maximumLength: Int)
        -> Tensor
    {
        measuredLoss(examples, tokenizer: tokenizer, maximumLength: maximumLength).loss
    }

    /// The mean loss of a batch, the number of tokens in it that are not padding, and the number of
    /// terms the mean runs over (predicted tokens, or examples for a classifier), from one
    /// tokenization (the progress line needs the count; tokenizing again would double the work).
    /// Data-parallel training weights each rank's mean by its share of the terms.
    public func measuredLoss(
        _ examples: [TextExample], tokenizer: any Tokenizer, maximumLength: Int
    )
        -> (loss: Tensor, tokens: Int, lossTerms: Int)
    {
        if let classifier {
            return classificationLoss(
                classifier, examples, tokenizer: tokenizer, maximumLength: maximumLength)
        }
        if let decoder = causal {
            let batch = CausalLanguageModelingBatch(
                examples: examples, tokenizer: tokenizer, maximumLength: maximumLength)
            return (
                decoder.languageModelingLoss(batch.decoderInputs, labels: batch.labels),
                batch.tokenCount, batch.labelCount
            )
        }
        guard let model = seq2Seq else {
            preconditionFailure("PreparedModel: \(type(of: base)) is neither causal nor seq2seq")
        }
        let batch = Seq2SeqBatch(
            examples: examples, tokenizer: tokenizer,
            decoderStartTokenID: model.decoderStartTokenID,
            maximumInputLength: maximumLength, maximumTargetLength: maximumLength)
        let encoded = model.encode(
            DecoderInputs(tokenIDs: batch.inputIDs, attentionMask: batch.attentionMask))
        let logits = model.decode(
            DecoderInputs(tokenIDs: batch.decoderInputIDs), encoderOutput: encoded,
            encoderMask: batch.attentionMask)
        return (
            crossEntropy(logits: logits, targets: batch.flatLabels), batch.tokenCount,
            batch.labelCount
        )
    }

    /// Greedy completion of a prompt, for the exact-match evaluation; throws ``GenerationError`` for
    /// a prompt a decoder-only model cannot take.
    public func complete(_ prompt: String, tokenizer: any Tokenizer, maximumNewTokens: Int)
        throws -> String
    {
        if let decoder = causal {
            return try decoder.complete(
                prompt, tokenizer: tokenizer, maximumNewTokens: maximumNewTokens)
        }
        guard let model = seq2Seq else {
            preconditionFailure("PreparedModel: \(type(of: base)) is neither causal nor seq2seq")
        }
        return model.complete(prompt, tokenizer: tokenizer, maximumNewTokens: maximumNewTokens)
    }

    /// Writes the trained result: an adapter folder, a compact delta for a selection, the whole model
    /// for full fine-tuning, and nothing for `none`.
    public func save(to folder: URL) throws {
        if method == .none { return }  // nothing trained, nothing to save
        if let adapter { return try adapter.save(to: folder) }
        if let selection {
            return try selection.saveDelta(of: base, relativeTo: original, to: folder)
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        switch base {
        case let model as GPT2LMHeadModel: try model.save(to: folder)
        case let model as T5ForConditionalGeneration: try model.save(to: folder)
        case let model as LlamaForCausalLM: try model.save(to: folder)
        default:
            // Saving nothing would look like success: say which model has no writer.
            throw AdapterError.invalidState(
                "full fine-tuning cannot save a \(type(of: base)): no checkpoint writer for it")
        }
    }
}
