// The fixtures written by Scripts/fixtures/make_safetensors_fixtures.py and the values they hold.

import Foundation
import Testing

/// One fixture file's expected contents, decoded from `Fixtures/expected.json`.
struct ExpectedFile: Decodable {
    /// One tensor's shape and values, the values as Float32 bit patterns from torch.
    struct Tensor: Decodable {
        var shape: [Int]
        var bits: [UInt32]
    }

    var metadata: [String: String]
    var tensors: [String: Tensor]
}

/// The folder of fixture files copied into the test bundle.
func fixturesFolder() throws -> URL {
    try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
}

/// The expected contents of every fixture, keyed by path relative to the fixtures folder.
func expectedFixtures() throws -> [String: ExpectedFile] {
    let data = try Data(contentsOf: fixturesFolder().appendingPathComponent("expected.json"))
    return try JSONDecoder().decode([String: ExpectedFile].self, from: data)
}

/// Whether two Float32 values are the same, bit for bit, except that any NaN matches any NaN.
func sameFloat(_ actual: Float, _ expectedBits: UInt32) -> Bool {
    let expected = Float(bitPattern: expectedBits)
    return expected.isNaN ? actual.isNaN : actual.bitPattern == expectedBits
}
