import Foundation

/// The folder every test writes its temporary files under: one per test process, removed when the
/// process exits, so a run leaves nothing behind in the system's temporary folder (a full suite makes
/// a few hundred folders; `peft` processes the command tests start write inside them too).
///
/// Use it where `FileManager.default.temporaryDirectory` would go.
public let testScratchRoot: URL = {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent(
        "swift-peft-tests-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
    do {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    } catch {
        fatalError("cannot create the test scratch folder \(root.path): \(error)")
    }
    scratchRootPath = root.path
    atexit {
        if let path = scratchRootPath { try? FileManager.default.removeItem(atPath: path) }
    }
    return root
}()

/// The path `atexit` removes; a C callback cannot capture, so it reads this global.
nonisolated(unsafe) private var scratchRootPath: String?
