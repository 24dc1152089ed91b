// Process memory, BLAS speed, timing and JSON helpers for the benchmarks.
import Foundation
import PEFT

/// A field of `/proc/self/status` in mebibytes: `VmHWM` is the peak resident set, `VmRSS` the current one.
public func processMemory(_ field: String) -> Double {
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
public func measureSGEMM(size: Int = 2048, repetitions: Int = 5) -> Double {
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
    public var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}

extension Array where Element == Double {
    /// The middle value (the upper middle for an even count).
    public var median: Double { sorted()[count / 2] }
}

/// One JSON object written in the order its fields were added, so the line reads like the table.
public struct JSONLine {
    /// An empty object.
    public init() {}

    private var fields: [String] = []

    public mutating func add(_ key: String, _ value: String) {
        fields.append("\"\(key)\": \"\(value)\"")
    }

    public mutating func add(_ key: String, _ value: Int) { fields.append("\"\(key)\": \(value)") }

    public mutating func add(_ key: String, _ value: Double, digits: Int = 4) {
        fields.append(
            "\"\(key)\": \(value.isFinite ? String(format: "%.\(digits)g", value) : "null")")
    }

    /// A nested object of numbers, in the given order.
    public mutating func add(_ key: String, _ values: [(key: String, value: Double)]) {
        let members = values.map { "\"\($0.key)\": \(String(format: "%.4g", $0.value))" }
        fields.append("\"\(key)\": {" + members.joined(separator: ", ") + "}")
    }

    public var text: String { "{" + fields.joined(separator: ", ") + "}" }
}

/// Read bandwidth in GB/s: the best of `repetitions` sums of a `megabytes` MiB Float32 buffer split
/// across the cores, as a bound for a bandwidth-bound decoder (the weight bytes read per token).
public func measureReadBandwidth(megabytes: Int = 512, repetitions: Int = 5) -> Double {
    let count = megabytes << 18
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { buffer.deallocate() }
    buffer.initialize(repeating: 1, count: count)
    let parts = max(1, ProcessInfo.processInfo.activeProcessorCount)
    let partLength = count / parts
    let address = Int(bitPattern: buffer)  // an integer crosses into the Sendable closure
    var best = Double.infinity
    for _ in 0..<repetitions {
        let start = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let base = UnsafeRawPointer(bitPattern: address)! + part * partLength * 4
            var total = SIMD16<Float>()
            for index in stride(from: 0, to: partLength - 15, by: 16) {
                total += base.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            }
            // Keeps the sum from being optimised away without touching shared state.
            if total.sum() == -1 { print("") }
        }
        best = min(best, (ContinuousClock.now - start).seconds)
    }
    return Double(count * 4) / best / 1e9
}
