extension Array where Element == TextExample {
    /// The examples shuffled by `seed` and split in two: a `fraction` held out for evaluation (at
    /// least one, at most `maximumHeldOut`), the rest for training.
    ///
    /// A single example is both: there is nothing else to evaluate on.
    public func splitHeldOut(
        fraction: Double = 0.1, maximumHeldOut: Int = 200, seed: UInt64
    ) -> (training: [TextExample], heldOut: [TextExample]) {
        guard count > 1 else { return (self, self) }
        var generator = RandomGenerator(seed: seed)
        let shuffled = self.shuffled(using: &generator)
        let heldOutCount = Swift.min(
            maximumHeldOut, count - 1, Swift.max(1, Int(Double(count) * fraction)))
        return (Array(shuffled.dropFirst(heldOutCount)), Array(shuffled.prefix(heldOutCount)))
    }
}
