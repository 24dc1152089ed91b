import FuzzSupport
import Foundation
import PEFT

/// Any bytes as a safetensors file: the reader must throw or give tensors whose every value can be
/// read, never read outside the data.
func fuzzSafeTensors(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let file = try? SafeTensorsFile(data: FuzzInput.data(start, count), name: "fuzz") else {
        return 0
    }
    for name in file.tensorNames {
        guard let info = file.info(name) else { fatalError("listed tensor '\(name)' has no info") }
        if let values = try? file.floats(name) {
            precondition(
                values.count == info.shape.reduce(1, *),
                "'\(name)': \(values.count) values for shape \(info.shape)")
        }
    }
    return 0
}
