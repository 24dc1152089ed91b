// libFuzzer's entry point for a program that has its own main (LLVM 11 and later): SwiftPM links
// executables with a main of their own, so libFuzzer's main is never used.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv,
                        int (*test_one_input)(const uint8_t *data, size_t size));
