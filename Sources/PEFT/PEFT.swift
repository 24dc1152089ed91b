@_exported import PEFTSafeTensors
@_exported import PEFTTensor
@_exported import PEFTTokenizers
@_exported import PEFTNN
@_exported import PEFTModels
