import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

/// Rows of `tokens` one at a time, each with its adapter active (or none for `__base__`).
private func rowByRow(
    _ peft: PEFTModel<some Module & CausalLanguageModel>, _ tokens: [[Int]], _ names: [String]
) throws -> [Tensor] {
    let active = peft.activeAdapter!
    defer { try? peft.setAdapter(active) }
    return try zip(tokens, names).map { row, name in
        if name == AdapterRowAssignment.baseName {
            return try peft.withAdaptersDisabled { peft.logits(DecoderInputs(tokenIDs: [row])) }
        }
        try peft.setAdapter(name)
        return peft.logits(DecoderInputs(tokenIDs: [row]))
    }
}

/// Row `row` of `[B, T, V]` as `[1, T, V]`.
private func rowOf(_ logits: Tensor, _ row: Int) -> Tensor {
    logits.narrowed(alongAxis: 0, start: row, length: 1)
}

/// Each adapter's rows as one batch of their own with that adapter active (the base's with
/// adapters off), put back in row order: the "separate batches" a mixed batch replaces.
private func perAdapterBatches(
    _ peft: PEFTModel<some Module & CausalLanguageModel>, _ tokens: [[Int]], _ names: [String]
) throws -> [Tensor] {
    let active = peft.activeAdapter!
    defer { try? peft.setAdapter(active) }
    var result = [Tensor?](repeating: nil, count: tokens.count)
    for name in Set(names) {
        let rows = names.indices.filter { names[$0] == name }
        let inputs = DecoderInputs(tokenIDs: rows.map { tokens[$0] })
        let logits: Tensor
        if name == AdapterRowAssignment.baseName {
            logits = try peft.withAdaptersDisabled { peft.logits(inputs) }
        } else {
            try peft.setAdapter(name)
            logits = peft.logits(inputs)
        }
        for (index, row) in rows.enumerated() { result[row] = rowOf(logits, index) }
    }
    return result.map { $0! }
}

/// A tiny GPT-2 with three LoRA adapters of different ranks, one DoRA, one also on the embedding.
private func loraModel() throws -> PEFTModel<GPT2LMHeadModel> {
    let peft = try PEFTModel(
        tinyGPT2(),
        configuration: LoRAConfiguration {
            $0.rank = 4
            $0.targets = .suffixes(["c_attn", "c_proj"])
        }, adapterName: "plain")
    try peft.addAdapter(
        "dora",
        configuration: LoRAConfiguration {
            $0.rank = 2
            $0.alpha = 4
            $0.useDoRA = true
            $0.targets = .suffixes(["c_attn", "c_fc"])
        })
    try peft.addAdapter(
        "embedding",
        configuration: LoRAConfiguration {
            $0.rank = 3
            $0.useRSLoRA = true
            $0.targets = .suffixes(["wte", "c_proj"])
        })
    randomizeAdapters(peft, seed: 11)
    // DoRA's magnitudes stay positive, as trained ones are.
    for layer in peft.adapterLayers().compactMap({ $0.layer as? LoRALinear }) {
        if let magnitude = layer.adapters["dora"]?.magnitude {
            magnitude.assign(magnitude.value * magnitude.value + 0.5)
        }
    }
    peft.eval()
    return peft
}

private let eightRows = [
    [1, 5, 9, 2, 7, 3], [4, 4, 8, 1, 0, 2], [3, 1, 4, 1, 5, 9], [2, 6, 5, 3, 5, 8],
    [9, 7, 9, 3, 2, 3], [8, 4, 6, 2, 6, 4], [3, 3, 8, 3, 2, 7], [9, 5, 0, 2, 8, 8],
]

/// How far a row of a mixed batch may be from the same row computed in its own adapter's batch: the
/// two go through sgemm calls of different sizes, whose blocking (and so rounding) OpenBLAS picks per
/// CPU, so they agree to float rounding (1.6e-6 seen on one machine), not bit for bit.
private let rowTolerance: Float = 1e-5

@Suite("Mixed-adapter batches")
struct MixedAdapterBatchTests {
    @Test("LoRA, DoRA, an embedding adapter and the base in one batch match per-adapter batches")
    func loraRowsMatch() throws {
        let peft = try loraModel()
        let names = [
            "plain", "dora", "__base__", "embedding", "dora", "plain", "embedding", "__base__",
        ]
        let mixed = try peft.logits(DecoderInputs(tokenIDs: eightRows), adapterNames: names)
        for (index, expected) in try perAdapterBatches(peft, eightRows, names).enumerated() {
            #expect(
                maxAbsoluteDifference(rowOf(mixed, index), expected) <= rowTolerance, "row \(index)"
            )
        }
        // Alone, a row's GEMMs have other shapes, so BLAS may round differently: close, not equal.
        let alone = try rowByRow(peft, eightRows, names)
        for (index, expected) in alone.enumerated() {
            #expect(maxAbsoluteDifference(rowOf(mixed, index), expected) <= 1e-5, "row \(index)")
        }
        // The rows really differ by adapter, so the comparison is not vacuous.
        #expect(
            maxAbsoluteDifference(alone[1], try rowByRow(peft, [eightRows[1]], ["plain"])[0]) > 1e-3
        )
    }

    @Test("On Llama (plain linear layers), DoRA and LoRA rows match per-adapter batches")
    func llamaRowsMatch() throws {
        let base = try LlamaForCausalLM(contentsOf: Fixtures.url("llama-tiny"))
        base.eval()
        let peft = try PEFTModel(
            base,
            configuration: LoRAConfiguration {
                $0.rank = 2
                $0.useDoRA = true
                $0.targets = .suffixes(["q_proj", "v_proj", "down_proj"])
            }, adapterName: "dora")
        try peft.addAdapter("lora", configuration: LoRAConfiguration { $0.targets = .allLinear })
        randomizeAdapters(peft, seed: 3)
        peft.eval()
        let names = ["lora", "dora", "dora", "__base__", "lora", "dora", "lora", "__base__"]
        let tokens = eightRows.map { $0.map { $0 + 10 } }
        let mixed = try peft.logits(DecoderInputs(tokenIDs: tokens), adapterNames: names)
        for (index, expected) in try perAdapterBatches(peft, tokens, names).enumerated() {
            #expect(
                maxAbsoluteDifference(rowOf(mixed, index), expected) <= rowTolerance, "row \(index)"
            )
        }
    }

    @Test("A batch naming one adapter throughout equals the batch run with it active")
    func singleAdapterBatch() throws {
        let peft = try loraModel()
        try peft.setAdapter("dora")
        let active = peft.logits(DecoderInputs(tokenIDs: eightRows))
        let named = try peft.logits(
            DecoderInputs(tokenIDs: eightRows), adapterNames: Array(repeating: "dora", count: 8))
        #expect(maxAbsoluteDifference(named, active) <= 1e-6)
    }

    @Test("IA3 adapters, input- and output-scaling, in one batch match per-adapter batches")
    func ia3RowsMatch() throws {
        let peft = try PEFTModel(
            tinyGPT2(), configuration: IA3Configuration { $0.initializesToOne = false },
            adapterName: "first")
        try peft.addAdapter(
            "second", configuration: IA3Configuration { $0.initializesToOne = false })
        randomizeAdapters(peft, seed: 5)
        #expect(peft.adapterLayers().contains { ($0.layer as? IA3Linear)?.isFeedForward == true })
        peft.eval()
        let names = [
            "second", "first", "__base__", "second", "first", "first", "__base__", "second",
        ]
        let mixed = try peft.logits(DecoderInputs(tokenIDs: eightRows), adapterNames: names)
        for (index, expected) in try perAdapterBatches(peft, eightRows, names).enumerated() {
            #expect(
                maxAbsoluteDifference(rowOf(mixed, index), expected) <= rowTolerance, "row \(index)"
            )
        }
    }

    @Test("The assignment lasts for the call only: afterwards the model is bit-identical to before")
    func scopeEnds() throws {
        let peft = try loraModel()
        let before = peft.logits(DecoderInputs(tokenIDs: eightRows))
        _ = try peft.logits(
            DecoderInputs(tokenIDs: eightRows),
            adapterNames: ["dora", "plain", "dora", "plain", "dora", "plain", "dora", "plain"])
        #expect(
            peft.adapterLayers().allSatisfy {
                ($0.layer as? any RowAdapterSelecting)?.rowAssignment == nil
            })
        #expect(peft.logits(DecoderInputs(tokenIDs: eightRows)).scalars == before.scalars)
        #expect(peft.activeAdapter == "plain")
    }

    @Test("Generation with the key/value cache gives each prompt its own adapter's tokens")
    func generationMatches() throws {
        let peft = try loraModel()
        let prompts = [
            [1, 5, 9], [4, 4, 8, 1], [3, 1, 4], [2, 6, 5, 3], [9, 7, 9], [8, 4, 6],
        ]
        let names = ["dora", "plain", "embedding", "__base__", "plain", "dora"]
        var options = GenerationOptions(maximumNewTokens: 6)
        options.stopTokenIDs = []
        let mixed = try peft.generate(prompts: prompts, adapterNames: names, options: options)
        for (index, prompt) in prompts.enumerated() {
            let expected: [Int]
            if names[index] == "__base__" {
                expected = try peft.withAdaptersDisabled {
                    try peft.generate(prompt: prompt, options: options)
                }
            } else {
                try peft.setAdapter(names[index])
                expected = try peft.generate(prompt: prompt, options: options)
            }
            #expect(mixed[index] == expected, "row \(index) (\(names[index]))")
        }
        var uncached = options
        uncached.usesCache = false
        #expect(
            try peft.generate(prompts: prompts, adapterNames: names, options: uncached) == mixed)
    }

    @Test("Bad adapter names, training mode, merged adapters and a wrong row count are refused")
    func refusals() throws {
        let peft = try loraModel()
        let inputs = DecoderInputs(tokenIDs: [[1, 2], [3, 4]])
        #expect(throws: AdapterError.unknownAdapter("nope", known: ["plain", "dora", "embedding"]))
        {
            try peft.logits(inputs, adapterNames: ["plain", "nope"])
        }
        #expect(throws: AdapterError.self) { try peft.logits(inputs, adapterNames: ["plain"]) }
        peft.train()
        #expect(throws: AdapterError.self) {
            try peft.logits(inputs, adapterNames: ["plain", "dora"])
        }
        peft.eval()
        try peft.merge(adapters: ["plain"])
        #expect(throws: AdapterError.self) {
            try peft.logits(inputs, adapterNames: ["plain", "dora"])
        }
        try peft.unmerge()
        _ = try peft.logits(inputs, adapterNames: ["plain", "dora"])
    }

    @Test("Gathering row blocks and reassembling them passes finite-difference gradient checks")
    func gradients() {
        expectGradientsMatchFiniteDifferences(
            [randomTensor([4, 2, 3], seed: 1), randomTensor([4, 2, 3], seed: 2)]
        ) { inputs in
            let first = selectingRows(inputs[0], [2, 0]) * 2
            let second = selectingRows(inputs[1], [1, 3])
            return AdapterRowAssignment.assemble([first, second], rows: [[2, 0], [1, 3]])
        }
    }
}
