import FuzzSupport
import Foundation
import PEFT

/// Any bytes as an `adapter_config.json`, decoded as every registered PEFT type: a configuration
/// that decodes must encode and decode again to an equal one.
func fuzzAdapterConfiguration(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = FuzzInput.data(start, count)
    for peftType in AdapterConfigurationRegistry.registeredTypes {
        guard let type = AdapterConfigurationRegistry.configurationType(for: peftType) else {
            continue
        }
        roundTrip(type, data)
    }
    return 0
}

private func roundTrip<C: PEFTConfiguration>(_ type: C.Type, _ data: Data) {
    guard let configuration = try? JSONDecoder().decode(C.self, from: data) else { return }
    // JSON cannot hold every value a decoded configuration can (a float beyond Float's range
    // becomes infinity), so encoding may throw; it must not trap.
    guard let encoded = try? JSONEncoder().encode(configuration) else { return }
    do {
        _ = try JSONDecoder().decode(C.self, from: encoded)
    } catch {
        fatalError("\(C.peftType): a configuration written here does not read back: \(error)")
    }
}
