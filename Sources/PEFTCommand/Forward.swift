import ArgumentParser
import Foundation
import PEFT

/// `peft forward`: one evaluation-mode forward pass, printing the logits as JSON.
struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Run one forward pass and print the logits of every input (or decoder) position as JSON."
    )

    @OptionGroup var options: ModelOptions

    @Option(name: .customLong("input-ids"), help: "Comma-separated input token ids, e.g. 5,17,42.")
    var inputIDs: String

    @Option(
        name: .customLong("decoder-input-ids"),
        help: "Comma-separated decoder token ids for an encoder-decoder (default: the start token)."
    )
    var decoderInputIDs: String?

    @Flag(name: .long, help: "Print JSON (the only format; accepted for clarity).")
    var json = false

    func run() throws {
        let ids = try parseTokenIDs(inputIDs, option: "--input-ids")
        let (loaded, peft) = try options.load()
        try checkRange(ids, vocabularySize: loaded.vocabularySize, option: "--input-ids")
        let logits: Tensor
        if let causal = loaded.causal {
            guard decoderInputIDs == nil else {
                throw CommandError("--decoder-input-ids: \(options.model) is a decoder-only model")
            }
            let model: any CausalLanguageModel = peft as? any CausalLanguageModel ?? causal
            guard ids.count <= model.maximumLength else {
                throw CommandError(
                    "--input-ids: \(ids.count) tokens exceed the \(model.maximumLength) positions left"
                )
            }
            logits = withoutGradients { model.logits(DecoderInputs(tokenIDs: [ids])) }
        } else {
            guard case .t5(let t5) = loaded else { preconditionFailure("an unknown architecture") }
            let decoderIDs =
                try decoderInputIDs.map { try parseTokenIDs($0, option: "--decoder-input-ids") }
                ?? [t5.configuration.decoderStartTokenID]
            try checkRange(
                decoderIDs, vocabularySize: t5.configuration.vocabularySize,
                option: "--decoder-input-ids")
            let model: any Seq2SeqLanguageModel = peft as? any Seq2SeqLanguageModel ?? t5
            logits = withoutGradients {
                let input = DecoderInputs(tokenIDs: [ids])
                return model.decode(
                    DecoderInputs(tokenIDs: [decoderIDs]), encoderOutput: model.encode(input),
                    encoderMask: nil)
            }
        }
        print(logitsJSON(logits))
    }
}

/// `{"logits": [[...], ...]}`, one row per position of a `[1, T, V]` tensor, each value the shortest
/// decimal that reads back as the same Float32.
func logitsJSON(_ logits: Tensor) -> String {
    let (length, vocabulary) = (logits.shape[1], logits.shape[2])
    let values = logits.storage.buffer
    let rows = (0..<length).map { position in
        "["
            + (0..<vocabulary).map { "\(values[position * vocabulary + $0])" }.joined(
                separator: ",") + "]"
    }
    return "{\"logits\":[" + rows.joined(separator: ",") + "]}"
}
