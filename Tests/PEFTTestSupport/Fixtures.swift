import Foundation

/// The reference files under `Tests/PEFTTestSupport/Fixtures`, written by the scripts in
/// `Scripts/fixtures` with PyTorch and Hugging Face libraries.
public enum Fixtures {
    /// The fixture folder inside the test-support bundle.
    public static var folder: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    }

    /// The fixture at `relative`, a path inside the fixture folder such as `optimizers.json`.
    public static func url(_ relative: String) -> URL {
        folder.appendingPathComponent(relative)
    }
}
