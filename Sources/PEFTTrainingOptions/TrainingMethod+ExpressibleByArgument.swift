// Command-line parsing lives here, not in PEFTTraining, so that the library needs no
// ArgumentParser.
import ArgumentParser
import PEFTTraining

/// `--method lora`: a method is given on the command line by its raw value.
extension TrainingMethod: ExpressibleByArgument {}
