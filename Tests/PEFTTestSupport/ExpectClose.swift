import PEFTTensor
import Testing

/// The largest absolute elementwise difference between two equally shaped tensors.
public func maxAbsoluteDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(
        a.shape == b.shape, "maxAbsoluteDifference: shapes \(a.shape) and \(b.shape) differ")
    return zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Expects `actual` to equal `expected` elementwise within `tolerance`; a failure reports the largest
/// difference and where it is.
public func expectClose(
    _ actual: Tensor, _ expected: Tensor, tolerance: Float = 1e-5,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual.shape == expected.shape else {
        Issue.record(
            "shape \(actual.shape) != expected \(expected.shape)", sourceLocation: sourceLocation)
        return
    }
    expectClose(
        actual.scalars, expected.scalars, tolerance: tolerance, sourceLocation: sourceLocation)
}

/// Expects two arrays to agree elementwise within `tolerance`.
public func expectClose(
    _ actual: [Float], _ expected: [Float], tolerance: Float = 1e-5,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual.count == expected.count else {
        Issue.record(
            "\(actual.count) values != expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var worst: (index: Int, difference: Float) = (0, 0)
    for index in actual.indices {
        let difference = abs(actual[index] - expected[index])
        if difference > worst.difference || difference.isNaN { worst = (index, difference) }
        if difference.isNaN { break }
    }
    if worst.difference > tolerance || worst.difference.isNaN {
        let message =
            "max |Δ| = \(worst.difference) at index \(worst.index) (actual \(actual[worst.index]), "
            + "expected \(expected[worst.index])), tolerance \(tolerance)"
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }
}
