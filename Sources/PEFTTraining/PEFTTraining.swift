@_exported import PEFT
