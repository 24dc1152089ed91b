// What `--method` trains, and how the result is saved and loaded back: one case per method.
import ArgumentParser
import Foundation
import PEFTTraining

/// The fine-tuning methods the example compares.
enum Method: String, CaseIterable, ExpressibleByArgument {
    /// Low-rank adapters on the target layers; everything else frozen.
    case lora
    /// Every parameter trains.
    case full
    /// Nothing trains: the base model as it is.
    case none
}

/// What a method trains, and how its result is saved to a folder and loaded back onto a fresh base.
struct PreparedMethod {
    /// The parameters the optimizer updates.
    let parameters: [Parameter]
    /// Writes the trained result to a folder; `nil` when there is nothing to save.
    let save: ((URL) throws -> Void)?
    /// Rebuilds the trained model from a saved folder, starting from a freshly loaded base.
    let reload: (URL) throws -> GPT2LMHeadModel
}

extension Method {
    /// Puts the method into `model` and returns what trains.
    ///
    /// `loadBase` loads the untouched base model again, for the reload check.
    func prepare(
        _ model: GPT2LMHeadModel, rank: Int, alpha: Float, targets: [String],
        loadBase: @escaping () throws -> GPT2LMHeadModel
    ) throws -> PreparedMethod {
        switch self {
        case .lora:
            let adapter = try model.applyLoRA(rank: rank, alpha: alpha, targets: .suffixes(targets))
            return PreparedMethod(
                parameters: adapter.trainableParameters,
                save: { try adapter.save(to: $0) },
                reload: { folder in
                    let base = try loadBase()
                    _ = try PEFTModel.load(base, from: folder)
                    return base
                })
        case .full:
            model.unfreeze()
            return PreparedMethod(
                parameters: model.trainableParameters,
                save: { try model.save(to: $0) },
                reload: { try GPT2LMHeadModel(contentsOf: $0) })
        case .none:
            model.freeze()
            return PreparedMethod(parameters: [], save: nil, reload: { _ in model })
        }
    }

    /// The learning rate that suits the method when `--lr` is not given.
    var defaultLearningRate: Float {
        switch self {
        case .lora: 3e-3
        case .full: 5e-4
        case .none: 0
        }
    }
}
