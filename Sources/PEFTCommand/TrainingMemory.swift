import PEFTTraining

/// Where training's memory went, by category, as `peft train` reports it under `memory`.
///
/// Weights, gradients and optimizer state are counted from the parameters; activations and
/// temporaries are the rest of the largest amount of tensor storage alive at once during training;
/// pooled buffers are freed storage kept for reuse by the next step; the remainder of the peak
/// resident size is the program itself (code, runtime, tokenizer, data).
struct TrainingMemory {
    var weightBytes: Int
    var gradientBytes: Int
    var optimizerStateBytes: Int
    var activationBytes: Int
    var pooledBytes: Int
    var otherBytes: Int

    init(_ prepared: PreparedModel, peakTensorBytes: Int, pooledBytes: Int, peakResidentBytes: Int)
    {
        let parameters = prepared.base.parameters
        weightBytes = parameters.reduce(0) { $0 + $1.byteCount }
        let trainable = prepared.trainableParameterCount
        gradientBytes = trainable * 4
        // AdamW keeps two Float32 moments a trained value.
        optimizerStateBytes = trainable * 8
        // Float32 parameters live in tensor storage too; low-precision ones do not.
        let storedAsTensors = parameters.filter { $0.lowPrecision == nil }.reduce(0) {
            $0 + $1.byteCount
        }
        activationBytes = max(
            0, peakTensorBytes - storedAsTensors - gradientBytes - optimizerStateBytes)
        self.pooledBytes = pooledBytes
        otherBytes = max(
            0,
            peakResidentBytes - weightBytes - gradientBytes - optimizerStateBytes - activationBytes
                - pooledBytes)
    }

    /// The summary's keys, `memory_<category>_bytes`.
    var summary: [String: Int] {
        [
            "memory_weights_bytes": weightBytes, "memory_gradients_bytes": gradientBytes,
            "memory_optimizer_state_bytes": optimizerStateBytes,
            "memory_activations_bytes": activationBytes, "memory_pooled_bytes": pooledBytes,
            "memory_other_bytes": otherBytes,
        ]
    }
}
