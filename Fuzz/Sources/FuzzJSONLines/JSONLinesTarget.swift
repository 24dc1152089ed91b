import FuzzSupport
import Foundation
import PEFTTraining

/// Any bytes as a JSON Lines data file, read with both key sets: the reader must throw a
/// ``DatasetError`` or give examples.
func fuzzJSONLines(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let url = FuzzInput.file("data.jsonl", containing: FuzzInput.data(start, count))
    _ = try? TextExample.load(jsonLines: url)
    _ = try? TextExample.load(jsonLines: url, promptKey: "input", completionKey: "target")
    return 0
}
