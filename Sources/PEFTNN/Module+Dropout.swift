import PEFTTensor

extension Module {
    /// Reseeds every ``Dropout`` in the tree from `seed` and the dropout's path.
    ///
    /// Layers built alike start from the same seed, so without this the same-shaped dropouts of
    /// different blocks would draw identical masks at every step. After the call each layer's masks
    /// depend only on `seed` and its path: distinct layers draw distinct masks, and calling it again
    /// with the same seed replays them. A training loop that must resume exactly calls it each step
    /// with a seed derived from the run's seed and the step.
    public func reseedDropouts(seed: UInt64) {
        for (path, module) in namedModules() {
            (module as? Dropout)?.reseed(dropoutSeed(seed, path: path))
        }
    }
}

/// The mask generators of every dropout below a module, kept to draw the same masks again when a
/// checkpointed block is recomputed in backward.
public struct DropoutSnapshot {
    private let entries: [(layer: Dropout, generator: RandomGenerator)]

    init(_ module: Module) {
        entries = module.namedModules().compactMap { _, module in
            (module as? Dropout).map { ($0, $0.generator) }
        }
    }

    /// Puts every generator back where it was when the snapshot was taken.
    public func restore() {
        for (layer, generator) in entries { layer.generator = generator }
    }
}

extension Module {
    /// The state of every dropout below this module; see ``DropoutSnapshot``.
    public func dropoutSnapshot() -> DropoutSnapshot { DropoutSnapshot(self) }
}

/// A generator seed from a run's seed and a module path: FNV-1a over the path (stable across runs and
/// platforms, unlike `Hasher`), then SplitMix64's finaliser, so that nearby inputs give unrelated seeds.
private func dropoutSeed(_ seed: UInt64, path: String) -> UInt64 {
    func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in path.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    return mix(seed ^ mix(hash))
}
