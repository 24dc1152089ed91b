import FuzzSupport

runFuzzer(fuzzJSONLines)
