extension TrainingMethod {
    /// LoRA's alpha when none is given: twice the rank, so the update is scaled by 2 whatever the
    /// rank (the library's default throughout, `applyLoRA` included).
    public static func defaultAlpha(rank: Int) -> Float {
        Float(2 * rank)
    }
}
