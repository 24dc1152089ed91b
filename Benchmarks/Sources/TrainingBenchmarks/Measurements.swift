// Process memory, BLAS speed and timing helpers for the training benchmark.
import Foundation
import PEFT

/// A field of `/proc/self/status` in mebibytes: `VmHWM` is the peak resident set, `VmRSS` the current one.
func processMemory(_ field: String) -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
        return .nan
    }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        let kilobytes = line.split(separator: " ").compactMap { Double($0) }.first ?? .nan
        return kilobytes / 1024
    }
    return .nan
}

/// The GFLOP/s of a `size`³ single-precision GEMM through the same BLAS the tensors use, the best
/// of `repetitions` after one warm-up.
func measureSGEMM(size: Int = 2048, repetitions: Int = 5) -> Double {
    var generator = RandomGenerator(seed: 3)
    let a = (0..<size * size).map { _ in generator.nextUniform() }
    let b = (0..<size * size).map { _ in generator.nextUniform() }
    var c = [Float](repeating: 0, count: size * size)
    var best = Double.infinity
    for repetition in 0...repetitions {
        let start = ContinuousClock.now
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    rawSGEMM(
                        m: size, n: size, k: size, a: a.baseAddress!, b: b.baseAddress!,
                        c: c.baseAddress!)
                }
            }
        }
        let seconds = (ContinuousClock.now - start).seconds
        if repetition > 0 { best = min(best, seconds) }
    }
    return 2 * pow(Double(size), 3) / best / 1e9
}

extension Duration {
    /// The duration in seconds as a `Double`.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}

extension Array where Element == Double {
    /// The middle value (the upper middle for an even count).
    var median: Double { sorted()[count / 2] }
}

/// One JSON object written in the order its fields were added, so the line reads like the table.
struct JSONLine {
    private var fields: [String] = []

    mutating func add(_ key: String, _ value: String) {
        fields.append("\"\(key)\": \"\(value)\"")
    }

    mutating func add(_ key: String, _ value: Int) { fields.append("\"\(key)\": \(value)") }

    mutating func add(_ key: String, _ value: Double, digits: Int = 4) {
        fields.append(
            "\"\(key)\": \(value.isFinite ? String(format: "%.\(digits)g", value) : "null")")
    }

    var text: String { "{" + fields.joined(separator: ", ") + "}" }
}
