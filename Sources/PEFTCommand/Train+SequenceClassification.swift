// `peft train --task-type seq-cls`: labelled texts and a classifier built from the model folder.
import Foundation
import PEFTTraining

extension Train {
    /// The methods that train a classifier: those with an adapter, whose `SEQ_CLS` configuration
    /// also trains the head in full.
    static let sequenceClassificationMethods: [TrainingMethod] = [
        .lora, .ia3, .adapter, .prompt, .ptuning, .prefix,
    ]

    /// Whether the run trains a sequence classifier.
    var isSequenceClassification: Bool { taskType == "seq-cls" }

    /// The `--data` lines with the last tenth (at most `--eval-examples`) held out, and the
    /// number of classes found.
    func loadClassificationExamples() throws -> (
        training: [TextExample], heldOut: [TextExample], labelCount: Int
    ) {
        let dataset = try ClassificationDataset.load(jsonLines: URL(fileURLWithPath: data!))
        let split = try splitValidation(dataset.examples) { _ in [] }
        if let names = dataset.labelNames {
            printToStandardError(
                "labels: "
                    + names.enumerated().map { "\($0) = \"\($1)\"" }.joined(separator: ", "))
        }
        return (split.training, split.heldOut, dataset.labelCount)
    }

    /// A classifier with `labelCount` classes from the `--model` folder (GPT-2 or the Llama
    /// family, by `config.json`'s `model_type`; a language model's head is replaced by a random
    /// one), or a random GPT-2 of `--config`, with its tokenizer.
    func loadClassifier(labelCount: Int) throws -> (any AdaptableModel, any Tokenizer) {
        guard let model else {
            let classifier = GPT2ForSequenceClassification(
                configuration: randomConfiguration,
                classification: SequenceClassificationSettings(labelCount: labelCount),
                seed: seed)
            return (classifier, ByteTokenizer())
        }
        if let tokenizer, tokenizer != "byte" {
            throw CommandError("--tokenizer: only 'byte' can be named")
        }
        let folder = URL(fileURLWithPath: model)
        let checkpoint = try CheckpointFolder(folder)
        let classifier: any AdaptableModel
        switch checkpoint.modelType {
        case "gpt2":
            classifier = try GPT2ForSequenceClassification(
                contentsOf: folder, labelCount: labelCount, seed: seed)
        case let type where LlamaConfiguration.supportedModelTypes.contains(type):
            classifier = try LlamaForSequenceClassification(
                contentsOf: folder, labelCount: labelCount, seed: seed)
        default:
            throw CommandError(
                "--task-type seq-cls: \(checkpoint.configurationPath): model_type "
                    + "'\(checkpoint.modelType)' has no classifier (gpt2, "
                    + LlamaConfiguration.supportedModelTypes.joined(separator: ", ") + ")")
        }
        return (
            classifier,
            tokenizer == "byte" ? ByteTokenizer() : try loadTokenizer(contentsOf: folder)
        )
    }
}
