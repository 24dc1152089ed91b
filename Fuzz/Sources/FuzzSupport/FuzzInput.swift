import Foundation

/// What a fuzz target is given: libFuzzer's bytes, and a scratch folder of this process in which to
/// write them as the file a reader expects.
public enum FuzzInput {
    /// The bytes libFuzzer passes to `LLVMFuzzerTestOneInput`.
    public static func data(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Data {
        guard let start, count > 0 else { return Data() }
        return Data(bytes: start, count: count)
    }

    /// A folder for this process (in shared memory when there is one, so writes stay cheap),
    /// emptied of nothing: each input overwrites the files it needs.
    public static let scratchFolder: URL = {
        let root =
            FileManager.default.fileExists(atPath: "/dev/shm")
            ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
        let folder = root.appendingPathComponent("peft-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }()

    /// Writes `data` as `name` in the scratch folder and returns its URL.
    public static func file(_ name: String, containing data: Data) -> URL {
        let url = scratchFolder.appendingPathComponent(name)
        try? data.write(to: url)
        return url
    }

    /// The repository's test fixtures, for targets that need a valid file beside the fuzzed one.
    public static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tests/PEFTTestSupport/Fixtures")
}
