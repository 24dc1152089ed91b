/// A LyCORIS-family configuration (LoHa, LoKr): its shared fields live in ``settings`` and read as
/// the configuration's own (`configuration.rank`, `configuration.rankPattern`).
public protocol LyCORISConfiguration: PEFTConfiguration {
    /// The fields LoHa and LoKr share.
    var settings: LyCORISSettings { get set }
}

extension LyCORISConfiguration {
    /// `r`: the rank of the factors.
    public var rank: Int {
        get { settings.rank }
        set { settings.rank = newValue }
    }
    /// `alpha`: the update is scaled by `alpha / r`.
    public var alpha: Float {
        get { settings.alpha }
        set { settings.alpha = newValue }
    }
    /// `rank_dropout`: the probability of dropping an output row of the update while training.
    public var rankDropout: Float {
        get { settings.rankDropout }
        set { settings.rankDropout = newValue }
    }
    /// `module_dropout`: the probability of skipping the whole update in a training forward pass.
    public var moduleDropout: Float {
        get { settings.moduleDropout }
        set { settings.moduleDropout = newValue }
    }
    /// `target_modules`.
    public var targets: TargetModules {
        get { settings.targets }
        set { settings.targets = newValue }
    }
    /// `exclude_modules`.
    public var excludedModules: TargetModules? {
        get { settings.excludedModules }
        set { settings.excludedModules = newValue }
    }
    /// `layers_to_transform`.
    public var layersToTransform: [Int]? {
        get { settings.layersToTransform }
        set { settings.layersToTransform = newValue }
    }
    /// `layers_pattern`.
    public var layersPattern: [String]? {
        get { settings.layersPattern }
        set { settings.layersPattern = newValue }
    }
    /// `rank_pattern`: per-module ranks by name or regular expression.
    public var rankPattern: [String: Int] {
        get { settings.rankPattern }
        set { settings.rankPattern = newValue }
    }
    /// `alpha_pattern`: per-module alphas by name or regular expression.
    public var alphaPattern: [String: Float] {
        get { settings.alphaPattern }
        set { settings.alphaPattern = newValue }
    }
    /// `modules_to_save`.
    public var modulesToSave: [String]? {
        get { settings.modulesToSave }
        set { settings.modulesToSave = newValue }
    }
    /// `task_type`.
    public var taskType: String? {
        get { settings.taskType }
        set { settings.taskType = newValue }
    }
    /// `base_model_name_or_path`.
    public var baseModelNameOrPath: String? {
        get { settings.baseModelNameOrPath }
        set { settings.baseModelNameOrPath = newValue }
    }
}
