import Foundation

/// The `adapter_config.json` of a selective-tuning checkpoint, as
/// ``ParameterSelection/saveDelta(of:relativeTo:to:)`` documents it.
struct SelectiveCheckpointConfiguration: Codable, Equatable {
    /// `SELECTIVE`.
    static let peftType = "SELECTIVE"
    /// The layout version this code writes and reads.
    static let currentFormatVersion = 1

    /// `peft_type`: always `SELECTIVE`.
    var peftType = Self.peftType
    /// `format_version`.
    var formatVersion = Self.currentFormatVersion
    /// `granularity`: `element`, `row` or `tensor`.
    var granularity: SelectionGranularity
    /// `criterion`: `fisher`, `taylor`, `gradient_magnitude`, or `null` for a rule.
    var criterion: SensitivityCriterion?
    /// `budget`: `{"fraction": f}`, `{"count": n}`, or `null` for a rule.
    var budget: SelectionBudget?
    /// `selected`: the number of selected entries.
    var selected: Int
    /// `total_parameters`: the number of parameter elements of the model.
    var totalParameters: Int
    /// `selected_parameters`: the selected parameter paths, in tree order.
    var selectedParameters: [String]

    enum CodingKeys: String, CodingKey {
        case peftType = "peft_type"
        case formatVersion = "format_version"
        case granularity, criterion, budget, selected
        case totalParameters = "total_parameters"
        case selectedParameters = "selected_parameters"
    }

    /// Writes `criterion` and `budget` as `null` when absent, so every key is always present.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(peftType, forKey: .peftType)
        try container.encode(formatVersion, forKey: .formatVersion)
        try container.encode(granularity, forKey: .granularity)
        try container.encode(criterion, forKey: .criterion)
        try container.encode(budget, forKey: .budget)
        try container.encode(selected, forKey: .selected)
        try container.encode(totalParameters, forKey: .totalParameters)
        try container.encode(selectedParameters, forKey: .selectedParameters)
    }
}
