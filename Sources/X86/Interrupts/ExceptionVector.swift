/// Architectural exception vectors (SDM Vol. 3A, Table 6-1).
public enum ExceptionVector: UInt8, Sendable {
    case divideError = 0
    case debug = 1
    case nmi = 2
    case breakpoint = 3
    case overflow = 4
    case boundRange = 5
    case invalidOpcode = 6
    case deviceNotAvailable = 7
    case doubleFault = 8
    case invalidTSS = 10
    case segmentNotPresent = 11
    case stackFault = 12
    case generalProtection = 13
    case pageFault = 14
    case x87FloatingPoint = 16
    case alignmentCheck = 17
    case machineCheck = 18
    case simdFloatingPoint = 19

    /// The SDM's classes for deciding when a second exception makes a double fault (Table 6-4).
    enum Class { case benign, contributory, pageFault }

    static func classOf(_ vector: UInt8) -> Class {
        switch vector {
        case 0, 10, 11, 12, 13: .contributory
        case 14: .pageFault
        default: .benign
        }
    }
}
