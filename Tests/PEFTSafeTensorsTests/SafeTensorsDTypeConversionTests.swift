import Testing

@testable import PEFTSafeTensors

@Suite("Converting stored elements to Float32")
struct SafeTensorsDTypeConversionTests {
    #if !(os(macOS) && arch(x86_64))
        @Test("Every one of the 65,536 half-precision bit patterns converts as Float16 does")
        func halfConversionIsExact() {
            let mismatches = (UInt16.min...UInt16.max).filter { bits in
                let expected = Float(Float16(bitPattern: bits))
                let actual = SafeTensorsDType.floatFromHalf(bits)
                return expected.isNaN ? !actual.isNaN : actual.bitPattern != expected.bitPattern
            }
            #expect(mismatches.isEmpty, "first mismatching bits: \(mismatches.prefix(5))")
        }
    #endif

    @Test("F8_E4M3 decodes its extremes: largest finite, smallest subnormal, NaN, negative zero")
    func e4m3Extremes() {
        #expect(SafeTensorsDType.floatFromE4M3(0x7E) == 448)
        #expect(SafeTensorsDType.floatFromE4M3(0x01) == 0x1p-9)
        #expect(SafeTensorsDType.floatFromE4M3(0x7F).isNaN)
        #expect(SafeTensorsDType.floatFromE4M3(0xFF).isNaN)
        #expect(SafeTensorsDType.floatFromE4M3(0x80).bitPattern == (-0.0 as Float).bitPattern)
        #expect(SafeTensorsDType.floatFromE4M3(0x38) == 1)
    }
}
