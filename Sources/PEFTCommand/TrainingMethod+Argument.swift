import ArgumentParser
import PEFTTraining

extension TrainingMethod: ExpressibleByArgument {}
