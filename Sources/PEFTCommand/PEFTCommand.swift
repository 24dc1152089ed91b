import ArgumentParser

/// `peft`: run, inspect and train parameter-efficient adaptations of local Hugging Face models.
@main
struct PEFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peft",
        abstract:
            "Parameter-efficient fine-tuning of GPT-2 and T5 models from local Hugging Face folders.",
        subcommands: [
            Forward.self, Generate.self, Merge.self, Inspect.self, Train.self, Compare.self,
            Tokenize.self,
            Eval.self,
        ])

    /// Parses the command line after expanding `peft train -c FILE` into the file's options.
    static func main() {
        let arguments: [String]
        do {
            arguments = try TrainConfigurationFile.expand(Array(CommandLine.arguments.dropFirst()))
        } catch {
            exit(withError: error)
        }
        main(arguments)
    }
}
