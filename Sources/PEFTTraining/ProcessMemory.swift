import Foundation

/// The process's memory use as Linux reports it in `/proc/self/status`.
public enum ProcessMemory {
    /// The peak resident set size (`VmHWM`) in bytes, or `nil` where `/proc` is not available.
    public static var peakResidentBytes: Int? { statusField("VmHWM") }

    /// The current resident set size (`VmRSS`) in bytes, or `nil` where `/proc` is not available.
    public static var residentBytes: Int? { statusField("VmRSS") }

    /// A `kB` field of `/proc/self/status`, in bytes.
    static func statusField(_ name: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
            return nil
        }
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }
}
