import Foundation

/// The `adapter_config.json` of a selective-tuning checkpoint (`peft_type` `SELECTIVE`, this library's
/// own), as ``ParameterSelection/saveDelta(of:relativeTo:to:)`` documents it.
///
/// ``PEFTModel/load(_:from:adapterName:isTrainable:)`` applies such a folder's deltas to the base
/// weights; training a selection goes through ``ParameterSelection`` and ``SparseAdamW``.
public struct SelectiveConfiguration: PEFTConfiguration, Equatable {
    /// The method: ``SelectiveTuning``.
    public typealias Method = SelectiveTuning
    /// `SELECTIVE`.
    public static let peftType = "SELECTIVE"
    /// The layout version this code writes and reads.
    public static let currentFormatVersion = 1

    /// `format_version`.
    public var formatVersion = Self.currentFormatVersion
    /// `granularity`: `element`, `row` or `tensor`.
    public var granularity: SelectionGranularity
    /// `criterion`: `fisher`, `taylor`, `gradient_magnitude`, or `null` for a rule.
    public var criterion: SensitivityCriterion?
    /// `budget`: `{"fraction": f}`, `{"count": n}`, or `null` for a rule.
    public var budget: SelectionBudget?
    /// `selected`: the number of selected entries.
    public var selected: Int
    /// `total_parameters`: the number of parameter elements of the model.
    public var totalParameters: Int
    /// `selected_parameters`: the selected parameter paths, in tree order.
    public var selectedParameters: [String]
    /// `task_type`, written only when set.
    public var taskType: String? = nil
    /// `base_model_name_or_path`, written only when set.
    public var baseModelNameOrPath: String? = nil

    init(
        granularity: SelectionGranularity, criterion: SensitivityCriterion?,
        budget: SelectionBudget?, selected: Int, totalParameters: Int, selectedParameters: [String]
    ) {
        self.granularity = granularity
        self.criterion = criterion
        self.budget = budget
        self.selected = selected
        self.totalParameters = totalParameters
        self.selectedParameters = selectedParameters
    }

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case granularity, criterion, budget, selected
        case totalParameters = "total_parameters"
        case selectedParameters = "selected_parameters"
    }

    /// Reads the file, checking `peft_type` and `format_version`.
    public init(from decoder: any Decoder) throws {
        // Every stored property must be set before the shared fields are read into `self`, but a file
        // of another type must be refused before its other keys are judged.
        try decoder.container(keyedBy: SharedAdapterKey.self)
            .checkPEFTType(Self.peftType, forKey: .peftType, required: true)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        formatVersion = try container.decode(Int.self, forKey: .formatVersion)
        guard formatVersion == Self.currentFormatVersion else {
            throw AdapterError.invalidConfiguration(
                key: "format_version",
                reason:
                    "\(formatVersion) is not supported (this library reads \(Self.currentFormatVersion))"
            )
        }
        granularity = try container.decode(SelectionGranularity.self, forKey: .granularity)
        criterion = try container.decodeIfPresent(SensitivityCriterion.self, forKey: .criterion)
        budget = try container.decodeIfPresent(SelectionBudget.self, forKey: .budget)
        selected = try container.decode(Int.self, forKey: .selected)
        totalParameters = try container.decode(Int.self, forKey: .totalParameters)
        selectedParameters = try container.decode([String].self, forKey: .selectedParameters)
        try decodeSharedFields(from: decoder, requiresPEFTType: true)
    }

    /// Writes `criterion` and `budget` as `null` when absent, so every key is always present.
    public func encode(to encoder: any Encoder) throws {
        try encodeSharedFields(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(formatVersion, forKey: .formatVersion)
        try container.encode(granularity, forKey: .granularity)
        try container.encode(criterion, forKey: .criterion)
        try container.encode(budget, forKey: .budget)
        try container.encode(selected, forKey: .selected)
        try container.encode(totalParameters, forKey: .totalParameters)
        try container.encode(selectedParameters, forKey: .selectedParameters)
    }
}
