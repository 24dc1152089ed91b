import PEFTTraining

extension Train {
    /// Switches on `--gradient-checkpointing` in the prepared model's decoder body.
    func useGradientCheckpointing(in prepared: PreparedModel) throws {
        guard checkpointsGradients else { return }
        if method == .prefix {
            throw CommandError(
                "--gradient-checkpointing: --method prefix feeds every block from outside it; "
                    + "drop one of the two")
        }
        guard prepared.base.useGradientCheckpointing() > 0 else {
            throw CommandError(
                "--gradient-checkpointing: \(type(of: prepared.base)) has no GPT-2 or Llama-family "
                    + "decoder body to checkpoint")
        }
    }
}
