@_exported import PEFTModels
@_exported import PEFTNN
@_exported import PEFTSafeTensors
@_exported import PEFTTensor
@_exported import PEFTTokenizers
