import PEFTModels
import PEFTNN

/// What a method sees while it applies an adapter: the model, the adapter's name, the model family's
/// self-description, and the library's target matching, so a method from outside finds its modules the
/// way PEFT does.
public struct AdapterContext {
    /// The model the adapter goes into.
    public let model: Module
    /// The adapter's name.
    public let adapterName: String
    /// The model family's description, when the model gives one.
    public let family: (any AdaptableModel)?
    /// Whether the adapter's weights are about to be loaded from a folder, so initialisation that
    /// needs outside data (text token ids, a data set) is skipped, as Hugging Face PEFT skips it in
    /// inference mode.
    public let weightsWillBeLoaded: Bool

    /// A context for `model`; its family description is the model's own when it conforms.
    public init(model: Module, adapterName: String, weightsWillBeLoaded: Bool = false) {
        self.model = model
        self.adapterName = adapterName
        self.family = model as? any AdaptableModel
        self.weightsWillBeLoaded = weightsWillBeLoaded
    }

    /// The family's default `target_modules` for `peftType`; throws naming `target_modules` when the
    /// model has no default for it.
    public func defaultTargets(for peftType: String) throws -> [String] {
        guard let family, let names = family.defaultTargetModules(for: peftType) else {
            throw AdapterError.invalidConfiguration(
                key: "target_modules",
                reason:
                    "no default \(peftType) targets for model type '\(family?.modelType ?? "unknown")'; name them"
            )
        }
        return names
    }

    /// The family, or an error naming `key` for methods that need to know the model's layout.
    public func requireFamily(for key: String) throws -> any AdaptableModel {
        guard let family else {
            throw AdapterError.invalidConfiguration(
                key: key,
                reason:
                    "\(type(of: model)) does not describe its family (conform it to AdaptableModel)"
            )
        }
        return family
    }

    /// Resolves ``TargetModules/automatic`` to the family's defaults for `peftType`.
    public func resolvedTargets(_ targets: TargetModules, peftType: String) throws -> TargetModules
    {
        guard case .automatic = targets else { return targets }
        return .suffixes(try defaultTargets(for: peftType))
    }

    /// The paths of the modules `targets` names, in tree order, as PEFT selects them.
    ///
    /// A module is taken when its path matches `targets`, is not `excluded`, sits in one of
    /// `layersToTransform` (when given), and `isSupported` accepts it; a listed name that matches a
    /// module of another kind is an error, and so is matching nothing, which names the candidates and
    /// the closest ones. `all-linear` leaves out the family's output head. Bases inside layers a method
    /// already wrapped are never matched again.
    public func matchModules(
        _ targets: TargetModules, excluded: TargetModules? = nil, layersToTransform: [Int]? = nil,
        layersPattern: [String]? = nil, isSupported: (Module) -> Bool
    ) throws -> [String] {
        try PEFT.matchModules(
            in: model, targets: targets, excluded: excluded, layersToTransform: layersToTransform,
            layersPattern: layersPattern, outputHeads: family?.outputHeadPaths ?? ["lm_head"],
            isSupported: isSupported)
    }

    /// A seed for random initialisation that depends on the adapter's name, the module path and what it
    /// is for, so two adapters on the same module start differently and every run starts the same.
    public func seed(for path: String, purpose: String) -> UInt64 {
        adapterSeed(adapterName: adapterName, path: path, purpose: purpose)
    }
}

/// FNV-1a over `adapterName/purpose[/path]`: reproducible across runs and platforms.
func adapterSeed(adapterName: String, path: String, purpose: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    let key = path.isEmpty ? "\(adapterName)/\(purpose)" : "\(adapterName)/\(purpose)/\(path)"
    for byte in key.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    return hash
}
