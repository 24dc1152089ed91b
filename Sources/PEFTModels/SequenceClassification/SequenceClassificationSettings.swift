/// The `config.json` keys a sequence-classification head reads, as `transformers` names them.
public struct SequenceClassificationSettings: Decodable, Equatable, Sendable {
    /// The number of classes: `num_labels`, or the size of `id2label` (default 2).
    public var labelCount: Int
    /// `pad_token_id`: the head pools the last token that is not this one.
    public var padTokenID: Int?
    /// `problem_type`: `single_label_classification` (cross-entropy) unless set otherwise.
    public var problemType: String?

    /// Settings for `labelCount` classes.
    public init(labelCount: Int = 2, padTokenID: Int? = nil, problemType: String? = nil) {
        self.labelCount = labelCount
        self.padTokenID = padTokenID
        self.problemType = problemType
    }

    enum CodingKeys: String, CodingKey {
        case labelCount = "num_labels"
        case labels = "id2label"
        case padTokenID = "pad_token_id"
        case problemType = "problem_type"
    }

    /// Reads the keys, taking `transformers`' defaults for absent ones.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let labels = try container.decodeIfPresent([String: String].self, forKey: .labels)
        labelCount =
            try container.decodeIfPresent(Int.self, forKey: .labelCount) ?? labels?.count ?? 2
        padTokenID = try container.decodeIfPresent(Int.self, forKey: .padTokenID)
        problemType = try container.decodeIfPresent(String.self, forKey: .problemType)
    }

    /// Checks the values a head cannot be built from, naming the key.
    public func validate(file: String) throws {
        guard labelCount > 0 else {
            throw ModelLoadingError.malformedConfig(
                file: file, key: "num_labels", reason: "must be positive, got \(labelCount)")
        }
        if let problemType, problemType != "single_label_classification" {
            throw ModelLoadingError.malformedConfig(
                file: file, key: "problem_type",
                reason: "'\(problemType)' is not supported (single_label_classification)")
        }
    }
}
