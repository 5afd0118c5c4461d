/// The x87 unit's registers (and the MMX view of them).
struct FPUState {
}
