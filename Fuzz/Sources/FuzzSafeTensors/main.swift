import FuzzSupport

runFuzzer(fuzzSafeTensors)
