import PEFTTensor

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Formats `value` with a fixed number of decimals, without Foundation.
func formatted(_ value: Double, decimals: Int = 1) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (abs(value) * scale).rounded()
    let whole = Int(rounded / scale)
    let fraction = Int(rounded) - whole * Int(scale)
    var text = (value < 0 ? "-" : "") + "\(whole)"
    if decimals > 0 {
        let digits = "\(fraction)"
        text += "." + String(repeating: "0", count: decimals - digits.count) + digits
    }
    return text
}

/// A duration in milliseconds with three decimals.
func milliseconds(_ duration: Duration) -> String { formatted(duration.seconds * 1e3, decimals: 3) }

/// The facts a reader needs to compare two runs of this report.
func machineFacts() -> [(String, String)] {
    var facts: [(String, String)] = []
    facts.append(("date (UTC)", currentDate()))
    facts.append(("CPU", cpuModelName() ?? "unknown"))
    facts.append(("online cores", "\(sysconf(Int32(_SC_NPROCESSORS_ONLN)))"))
    facts.append(("BLAS threads (openblas_get_num_threads)", "\(blasThreadCount)"))
    for variable in ["OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"] {
        if let value = getenv(variable) { facts.append((variable, String(cString: value))) }
    }
    return facts
}

/// Today's date and time in UTC, as `YYYY-MM-DD HH:MM`.
private func currentDate() -> String {
    var now = time(nil)
    var parts = tm()
    gmtime_r(&now, &parts)
    func twoDigits(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(parts.tm_year + 1900)-\(twoDigits(parts.tm_mon + 1))-\(twoDigits(parts.tm_mday)) "
        + "\(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min))"
}

/// The first `model name` line of `/proc/cpuinfo`, where there is one.
private func cpuModelName() -> String? {
    guard let file = fopen("/proc/cpuinfo", "r") else { return nil }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>?
    var capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0, let line {
        let text = String(cString: line)
        if text.hasPrefix("model name"), let colon = text.firstIndex(of: ":") {
            return String(text[text.index(after: colon)...].drop(while: { $0 == " " }).dropLast())
        }
    }
    return nil
}

/// Prints the machine facts, the GEMM table and the memory-bound table as Markdown.
func printReport(gemm: [GEMMResult], memoryBound: [MemoryBoundResult], baseline: MemoryBaseline?) {
    print("## Machine\n")
    for (name, value) in machineFacts() { print("- \(name): \(value)") }

    print("\n## GEMM: tensor API vs raw cblas_sgemm\n")
    print("Convention: C[M, N] = A[M, K]·B[K, N], row-major; GFLOP/s = 2·M·N·K / median time.")
    print("The tensor side allocates its output on every call; the raw side reuses one buffer.")
    print("`linear` uses an nn.Linear [N, K] weight (transposed by a BLAS flag, not a copy) and is")
    print("compared with the same raw, untransposed GEMM. Target: tensor/raw ≥ 95%.\n")
    print("| M×K×N | shape | op | tensor ms | raw ms | tensor GFLOP/s | raw GFLOP/s | tensor/raw |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for result in gemm {
        let shape = result.shape
        print(
            "| \(shape.m)×\(shape.k)×\(shape.n) | \(shape.label) | \(result.operation) "
                + "| \(milliseconds(result.tensor.median)) | \(milliseconds(result.raw.median)) "
                + "| \(formatted(result.tensorGFLOPS)) | \(formatted(result.rawGFLOPS)) "
                + "| \(formatted(100 * result.ratio))% |")
    }

    print("\n## Memory-bound ops: forward and backward\n")
    print("GB/s = bytes a minimal implementation moves / median time (Float32, per-row statistics")
    print("ignored). Forward runs with gradient recording on; backward is timed alone.\n")
    print("| op | shape | fwd ms | bwd ms | fwd GB/s | bwd GB/s | fwd+bwd GB/s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for result in memoryBound {
        print(
            "| \(result.benchmark.name) | \(result.benchmark.shape) "
                + "| \(milliseconds(result.forward.median)) | \(milliseconds(result.backward.median)) "
                + "| \(formatted(result.forwardGBPerSecond)) "
                + "| \(formatted(result.backwardGBPerSecond)) "
                + "| \(formatted(result.totalGBPerSecond)) |")
    }
    if let baseline {
        print(
            "\nMemory baseline (48 MiB): fresh tensor, first write (page faults included) "
                + "\(formatted(baseline.freshWriteGBPerSecond)) GB/s; copy between mapped buffers, "
                + "one thread, read + write \(formatted(baseline.warmCopyGBPerSecond)) GB/s.")
    }
    print("\nBytes counted:\n")
    for result in memoryBound {
        print(
            "- \(result.benchmark.name): forward \(result.benchmark.forwardFormula); "
                + "backward \(result.benchmark.backwardFormula)")
    }
    let runs = (gemm.map { $0.tensor.runs } + memoryBound.map { $0.forward.runs })
    print(
        "\nEach figure is the median of \(runs.min() ?? 0)–\(runs.max() ?? 0) timed runs after "
            + "\(SamplingPolicy().warmUpRuns) warm-up runs (ContinuousClock).")
}
