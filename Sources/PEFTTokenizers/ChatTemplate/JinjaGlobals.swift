// The functions transformers gives every chat template.
import Foundation

enum JinjaGlobals {
    static let functions: [String: JinjaValue] = [
        "raise_exception": .callable(
            JinjaCallable { arguments, _ in
                throw ChatTemplateError.raised(line: 0, message: arguments.first?.printed ?? "")
            }),
        "strftime_now": .callable(
            JinjaCallable { arguments, _ in
                guard case .string(let format)? = arguments.first else {
                    throw ChatTemplateError.evaluation(
                        line: 0, message: "strftime_now needs a format string")
                }
                var now = time(nil)
                var parts = tm()
                localtime_r(&now, &parts)
                var buffer = [Int8](repeating: 0, count: 256)
                let count = strftime(&buffer, buffer.count, format, &parts)
                return .string(
                    String(
                        decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                )
            }),
        "namespace": .callable(
            JinjaCallable { arguments, keywords in
                var attributes = JinjaObject()
                if case .object(let initial)? = arguments.first {
                    for item in initial.items { attributes[item.key] = item.value }
                }
                for (key, value) in keywords { attributes[key] = value }
                return .namespace(JinjaNamespace(attributes))
            }),
        "dict": .callable(
            JinjaCallable { arguments, keywords in
                var object = JinjaObject()
                if case .object(let initial)? = arguments.first {
                    for item in initial.items { object[item.key] = item.value }
                }
                for (key, value) in keywords { object[key] = value }
                return .object(object)
            }),
        "range": .callable(
            JinjaCallable { arguments, _ in
                let numbers = arguments.compactMap(\.integer)
                guard !numbers.isEmpty, numbers.count == arguments.count else {
                    throw ChatTemplateError.evaluation(line: 0, message: "range needs integers")
                }
                let (start, stop, step) =
                    numbers.count == 1
                    ? (0, numbers[0], 1)
                    : (numbers[0], numbers[1], numbers.count > 2 ? numbers[2] : 1)
                guard step != 0 else {
                    throw ChatTemplateError.evaluation(
                        line: 0, message: "range step cannot be zero")
                }
                return .array(stride(from: start, to: stop, by: step).map { .int($0) })
            }),
    ]
}
