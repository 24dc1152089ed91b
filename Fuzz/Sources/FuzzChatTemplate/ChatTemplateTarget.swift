import FuzzSupport
import Foundation
import PEFT

/// A conversation with every role and a tool, rendered by each fuzzed template.
private let conversation = try! JinjaValue(
    json: #"[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Weather?"}]"#
)
private let tools = try! JinjaValue(
    json: #"[{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]"#
)

/// Any bytes as a chat template: parsing and rendering must throw a ``ChatTemplateError`` or give
/// text, never trap.
func fuzzChatTemplate(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let source = String(decoding: FuzzInput.data(start, count), as: UTF8.self)
    guard
        let template = try? ChatTemplate(
            source, specialTokens: ["bos_token": "<s>", "eos_token": "</s>"])
    else { return 0 }
    _ = try? template.render(messages: conversation, addGenerationPrompt: true)
    _ = try? template.render(messages: conversation, tools: tools)
    return 0
}
