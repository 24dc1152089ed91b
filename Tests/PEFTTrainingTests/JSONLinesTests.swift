import Foundation
import PEFTTestSupport
import PEFTTraining
import Testing

/// Writes `text` to a fresh temporary file and returns its URL.
func temporaryFile(_ text: String, name: String = "data.jsonl") throws -> URL {
    let folder = testScratchRoot.appendingPathComponent(
        "peft-training-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let url = folder.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url
}

@Test("JSON Lines load one example per non-blank line, with custom field names")
func jsonLinesLoad() throws {
    let url = try temporaryFile(
        """
        {"prompt": "2 + 2 =", "completion": " 4"}

        {"prompt": "héllo", "completion": "\\n", "extra": 1}
        """)
    #expect(
        try TextExample.load(jsonLines: url) == [
            TextExample(prompt: "2 + 2 =", completion: " 4"),
            TextExample(prompt: "héllo", completion: "\n"),
        ])
    let seq2seq = try temporaryFile(#"{"input": "a", "target": "b"}"#)
    #expect(
        try TextExample.load(jsonLines: seq2seq, promptKey: "input", completionKey: "target")
            == [TextExample(prompt: "a", completion: "b")])
}

@Test("A bad line throws an error that names the file and the line")
func jsonLinesErrorsNameFileAndLine() throws {
    let url = try temporaryFile(
        """
        {"prompt": "a", "completion": "b"}
        {"prompt": "a", "completion": 
        """)
    #expect(throws: DatasetError.malformedLine(file: url.path, line: 2, reason: "not valid JSON")) {
        try TextExample.load(jsonLines: url)
    }
    let missing = try temporaryFile(
        """
        {"prompt": "a", "completion": "b"}

        {"prompt": "a", "answer": "b"}
        """)
    do {
        _ = try TextExample.load(jsonLines: missing)
        Issue.record("a line without a completion loaded")
    } catch let error as DatasetError {
        #expect(error == .missingField(file: missing.path, line: 3, field: "completion"))
        #expect(error.description.hasPrefix("\(missing.path):3: "))
    }
    let notObject = try temporaryFile(#"["prompt", "completion"]"#)
    #expect(throws: DatasetError.self) { try TextExample.load(jsonLines: notObject) }
    let numbers = try temporaryFile(#"{"prompt": 1, "completion": "b"}"#)
    #expect(throws: DatasetError.missingField(file: numbers.path, line: 1, field: "prompt")) {
        try TextExample.load(jsonLines: numbers)
    }
}

@Test("An empty or missing file throws")
func jsonLinesEmptyOrMissing() throws {
    let empty = try temporaryFile("\n\n")
    #expect(throws: DatasetError.empty(file: empty.path)) { try TextExample.load(jsonLines: empty) }
    let missing = URL(fileURLWithPath: "/nonexistent/peft/data.jsonl")
    #expect(throws: DatasetError.self) { try TextExample.load(jsonLines: missing) }
}
