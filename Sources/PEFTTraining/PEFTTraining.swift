// The pieces the fine-tuning examples share, on top of the whole library.
@_exported import PEFT
