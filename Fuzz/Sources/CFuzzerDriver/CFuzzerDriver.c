// The declaration in include/CFuzzerDriver.h is all; libFuzzer (linked by -sanitize=fuzzer) defines it.
#include "CFuzzerDriver.h"
