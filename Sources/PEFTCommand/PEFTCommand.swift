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
        ])
}
