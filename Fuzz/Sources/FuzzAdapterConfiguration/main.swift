import FuzzSupport

runFuzzer(fuzzAdapterConfiguration)
