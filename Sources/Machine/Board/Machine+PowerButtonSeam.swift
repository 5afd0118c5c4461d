import Hardware

// SEAM — delete this file when merging helper-acpihw, whose ACPI PM block implements
// `Machine.pressPowerButton()` (PWRBTN_STS, an SCI once the OS enabled it). Until then the
// power button is wired to nothing on this board: pressing it is traced and does nothing.
extension Machine {
    /// Presses the power button. This board has no ACPI PM block yet: only traced.
    public func pressPowerButton() {
        emit(TraceEvent("power-button", [("effect", "none: no ACPI PM block on this board yet")]))
    }
}
