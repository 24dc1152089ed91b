import Foundation
import PEFTTraining
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Collects the polylines of an SVG document and whether it parsed.
final class SVGReader: NSObject, XMLParserDelegate {
    var root: String?
    var polylines: [[String]] = []

    func parser(
        _ parser: XMLParser, didStartElement element: String, namespaceURI: String?,
        qualifiedName: String?, attributes: [String: String]
    ) {
        if root == nil { root = element }
        if element == "polyline" {
            polylines.append((attributes["points"] ?? "").split(separator: " ").map(String.init))
        }
    }
}

@Test("The loss curve is a well-formed SVG with one point per recorded loss")
func lossCurveIsWellFormedSVG() throws {
    var curve = LossCurve(title: "LoRA <test> & more")
    for step in 1...37 { curve.recordTraining(step: step, loss: 3 / Float(step)) }
    curve.recordTraining(step: 38, loss: .nan)
    for step in stride(from: 10, through: 30, by: 10) {
        curve.recordEvaluation(step: step, loss: 0.5)
    }
    let reader = SVGReader()
    let parser = XMLParser(data: Data(curve.svg().utf8))
    parser.delegate = reader
    #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
    #expect(reader.root == "svg")
    #expect(reader.polylines.map(\.count) == [37, 3])
    for point in reader.polylines.joined() {
        let coordinates = point.split(separator: ",").compactMap { Double($0) }
        #expect(coordinates.count == 2)
        #expect(coordinates.allSatisfy { (0...640).contains($0) })
    }
}

@Test("The loss curve writes its SVG to a file, and an empty curve is still a document")
func lossCurveWrites() throws {
    let url = try temporaryFile("", name: "loss_curve.svg")
    var curve = LossCurve(title: "empty")
    try curve.write(to: url)
    #expect(try String(contentsOf: url, encoding: .utf8).hasSuffix("</svg>\n"))
    curve.recordTraining(step: 5, loss: 1)
    #expect(curve.svg().contains("<polyline"))
}
