import FuzzSupport

runFuzzer(fuzzModelConfiguration)
