/// A saved result that, loaded back onto a fresh base, no longer generates what the trained model
/// did.
public struct ReloadMismatch: Error, CustomStringConvertible, Equatable {
    /// The folder that was saved and loaded.
    public var folder: String
    /// The trained model's exact match, formatted.
    public var trained: String
    /// The reloaded model's exact match, formatted.
    public var reloaded: String

    /// A mismatch found after loading `folder`.
    public init(folder: String, trained: String, reloaded: String) {
        self.folder = folder
        self.trained = trained
        self.reloaded = reloaded
    }

    /// One sentence naming the folder and both scores.
    public var description: String {
        "Reloading \(folder) changed the generations: exact match \(trained) when trained, "
            + "\(reloaded) after reloading."
    }
}
