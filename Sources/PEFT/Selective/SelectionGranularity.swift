/// The unit a sensitivity ranking chooses: single elements, rows or whole tensors.
public enum SelectionGranularity: String, Codable, CaseIterable, Sendable {
    /// Single elements: a sparse mask over each parameter.
    case element
    /// Rows along the first dimension (an output unit of a linear weight, one element of a
    /// vector).
    case row
    /// Whole parameters, as BitFit and pattern rules choose them.
    case tensor
}
