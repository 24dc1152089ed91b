import ArgumentParser
import Foundation
import PEFT

/// `peft inspect`: what an adapter folder holds.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print an adapter's method, configuration, tensors and size.")

    @Argument(help: "An adapter folder.")
    var folder: String

    func run() throws {
        let url = URL(fileURLWithPath: folder)
        let configuration = try AdapterFolder.readConfiguration(from: url)
        let configurationURL = url.appendingPathComponent(AdapterFolder.configurationFile)
        let weightsURL = url.appendingPathComponent(AdapterFolder.weightsFile)
        let file = try SafeTensorsFile(contentsOf: weightsURL)
        print("method: \(type(of: configuration).peftType)")
        let object =
            try JSONSerialization.jsonObject(with: Data(contentsOf: configurationURL))
            as? [String: Any] ?? [:]
        let interesting = object.filter { !($0.value is NSNull) }.sorted { $0.key < $1.key }
        print("configuration:")
        for (key, value) in interesting {
            let text =
                (try? JSONSerialization.data(
                    withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            print("  \(key): \(text)")
        }
        var total = 0
        print("tensors (\(file.tensorNames.count)):")
        for name in file.tensorNames.sorted() {
            let info = file.info(name)!
            total += info.elementCount
            print("  \(name) \(info.dtype.rawValue) \(info.shape)")
        }
        let bytes =
            (try? FileManager.default.attributesOfItem(atPath: weightsURL.path)[.size] as? Int) ?? 0
        print("parameters: \(total)")
        print("size: \(bytes) bytes (\(String(format: "%.1f", Double(bytes) / 1024)) KiB)")
    }
}
