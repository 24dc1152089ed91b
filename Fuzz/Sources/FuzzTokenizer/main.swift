import FuzzSupport

runFuzzer(fuzzTokenizer)
