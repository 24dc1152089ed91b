/// How a ranking scores an element from its gradients over the calibration batches.
///
/// Each score is a mean over the `N` batches of one term per batch, with `g` the element's
/// gradient of that batch's loss and `w` its (unchanged) value.
public enum SensitivityCriterion: String, Codable, CaseIterable, Sendable {
    /// The diagonal of the empirical Fisher information: mean of `g²`.
    case fisher
    /// The first-order Taylor estimate of the loss change from zeroing the element: mean of
    /// `|w·g|`.
    case taylor
    /// The gradient's magnitude: mean of `|g|`.
    case gradientMagnitude = "gradient_magnitude"

    /// The score term of one batch for an element of value `value` and gradient `gradient`.
    @inline(__always)
    func term(value: Float, gradient: Float) -> Float {
        switch self {
        case .fisher: gradient * gradient
        case .taylor: abs(value * gradient)
        case .gradientMagnitude: abs(gradient)
        }
    }
}
