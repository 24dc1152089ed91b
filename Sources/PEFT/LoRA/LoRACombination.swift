/// How ``PEFTModel/addWeightedAdapter(_:weights:name:combination:svdRank:density:majoritySignMethod:masks:)``
/// combines LoRA adapters: the `combination_type` values of PEFT's `add_weighted_adapter`.
///
/// The non-SVD types combine the stacks of `A` factors and of `B` factors separately, adapter `i`'s
/// weight being `sign(wᵢsᵢ)·√|wᵢsᵢ|` on `A` and `√|wᵢsᵢ|` on `B`; they need equal ranks and are not
/// the weighted sum of the updates. The SVD types combine the updates `ΔWᵢ = sᵢ·Bᵢ·Aᵢ` and factor the
/// result by a truncated SVD to `svdRank` (the largest rank by default).
public enum LoRACombination: String, CaseIterable, Sendable {
    /// `Σ wᵢ·Tᵢ` on the weighted factors.
    case linear
    /// `A = cat(wᵢsᵢ·Aᵢ)`, `B = cat(Bᵢ)`: rank Σrᵢ, exactly `Σ wᵢ·ΔWᵢ`.
    case cat
    /// The exact `Σ wᵢ·ΔWᵢ`, truncated by SVD.
    case svd
    /// TIES on the factors: keep each tensor's top `density` fraction by magnitude, elect a sign per
    /// entry (``MajoritySignMethod``), and average the weighted entries that agree with it.
    case ties
    /// TIES on the updates, then SVD.
    case tiesSVD = "ties_svd"
    /// DARE on the factors: keep each entry with probability `density`, rescale by `1/density`, and
    /// take the weighted sum.
    case dareLinear = "dare_linear"
    /// DARE's random rescaled pruning, then TIES's sign election and mean.
    case dareTies = "dare_ties"
    /// DARE on the updates, then SVD.
    case dareLinearSVD = "dare_linear_svd"
    /// DARE-TIES on the updates, then SVD.
    case dareTiesSVD = "dare_ties_svd"
    /// Keep each factor's top `density` fraction by magnitude, then the weighted sum.
    case magnitudePrune = "magnitude_prune"
    /// Magnitude pruning on the updates, then SVD.
    case magnitudePruneSVD = "magnitude_prune_svd"

    /// Whether the type combines the updates `ΔWᵢ` and factors the result by SVD.
    public var usesSVD: Bool { rawValue.hasSuffix("svd") }

    /// Whether the type prunes, and so needs a `density`.
    public var needsDensity: Bool { self != .linear && self != .cat && self != .svd }

    /// Whether the type needs every combined adapter to have the same rank.
    var needsEqualRanks: Bool { !usesSVD && self != .cat }

    /// How the type merges a stack of task tensors (factors or updates).
    var taskMerge: TaskTensorMerge {
        switch self {
        case .linear, .cat, .svd: .taskArithmetic
        case .ties, .tiesSVD: .ties
        case .dareLinear, .dareLinearSVD: .dareLinear
        case .dareTies, .dareTiesSVD: .dareTies
        case .magnitudePrune, .magnitudePruneSVD: .magnitudePrune
        }
    }
}

/// How TIES elects the sign of each entry from the stack of pruned task tensors (PEFT's
/// `majority_sign_method`); a zero sum elects `+`.
public enum MajoritySignMethod: String, CaseIterable, Sendable {
    /// The sign of the entries' sum, `sign(Σ Tᵢ)`.
    case total
    /// The sign held by more tensors, `sign(Σ sign(Tᵢ))`.
    case frequency
}
