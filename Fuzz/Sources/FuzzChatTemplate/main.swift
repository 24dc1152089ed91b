import FuzzSupport

runFuzzer(fuzzChatTemplate)
