import Foundation

/// A checkpoint folder replaced as a whole: written beside the old one, then swapped in by renames, so
/// an interruption leaves either the old checkpoint or the new one, never a mixture.
enum CheckpointDirectory {
    /// Replaces `folder` with what `write` puts into a fresh folder beside it.
    ///
    /// A failure (a full disk, a read-only folder) throws and leaves the previous checkpoint where
    /// ``latest(in:)`` finds it, and no half-written folder behind.
    static func replace(_ folder: URL, write: (URL) throws -> Void) throws {
        let manager = FileManager.default
        let temporary = sibling(of: folder, suffix: "new")
        let previous = sibling(of: folder, suffix: "old")
        try? manager.removeItem(at: temporary)
        do {
            try manager.createDirectory(at: temporary, withIntermediateDirectories: true)
            try write(temporary)
        } catch {
            try? manager.removeItem(at: temporary)
            throw error
        }
        try? manager.removeItem(at: previous)
        if manager.fileExists(atPath: folder.path) {
            try manager.moveItem(at: folder, to: previous)
        }
        do {
            try manager.moveItem(at: temporary, to: folder)
        } catch {
            // Put the previous checkpoint back; `latest(in:)` would find it as `.old` regardless.
            try? manager.moveItem(at: previous, to: folder)
            try? manager.removeItem(at: temporary)
            throw error
        }
        try? manager.removeItem(at: previous)
    }

    /// The checkpoint to resume from: the folder, or the previous one if a swap was interrupted.
    static func latest(in folder: URL) throws -> URL {
        if FileManager.default.fileExists(atPath: folder.path) { return folder }
        let previous = sibling(of: folder, suffix: "old")
        if FileManager.default.fileExists(atPath: previous.path) { return previous }
        throw CommandError("--resume: no checkpoint at \(folder.path)")
    }

    /// `.checkpoint.new` or `.checkpoint.old` beside `checkpoint`.
    private static func sibling(of folder: URL, suffix: String) -> URL {
        folder.deletingLastPathComponent().appendingPathComponent(
            ".\(folder.lastPathComponent).\(suffix)")
    }
}
