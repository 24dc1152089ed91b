import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Puts files in place with one `rename`, so a reader (or a crash, or a full disk) sees the old file
/// or the new one, never a part of one.
enum AtomicFileReplacement {
    /// Copies `source` to a temporary file beside `target`, then renames it over `target`; on a
    /// failure the temporary file is removed and `target` is unchanged.
    static func copy(_ source: URL, to target: URL) throws {
        let temporary = target.deletingLastPathComponent().appendingPathComponent(
            ".\(target.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try FileManager.default.copyItem(at: source, to: temporary)
            try move(temporary, to: target)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// Renames `source` over `target` (both on one file system), replacing any file there.
    static func move(_ source: URL, to target: URL) throws {
        guard rename(source.path, target.path) == 0 else {
            throw CommandError(
                "cannot move \(source.path) to \(target.path): \(String(cString: strerror(errno)))")
        }
    }
}
