import Foundation

/// A number of bytes written for people: `512 B`, `38.2 KiB`, `1.5 MiB`, `2.1 GiB`.
public func formattedByteCount(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
}

/// An integer with its thousands separated by commas, as PEFT prints parameter counts: `294,912`.
public func formattedCount(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var groups: [Substring] = []
    var end = digits.endIndex
    while end > digits.startIndex {
        let start =
            digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
        groups.insert(digits[start..<end], at: 0)
        end = start
    }
    return (value < 0 ? "-" : "") + groups.joined(separator: ",")
}

/// Seconds to a tenth: `12.3 s`.
public func formattedSeconds(_ seconds: Double) -> String {
    String(format: "%.1f s", seconds)
}

/// A loss to four decimals: `1.2346`.
public func formattedLoss(_ loss: Float) -> String {
    String(format: "%.4f", loss)
}
