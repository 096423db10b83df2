/// `interrupt-delivery`: the interrupt-to-userspace latency distribution (boards/README.md).
extension ProfileReader {
    static let interruptDeliveryKeys = ["min", "p50", "p99", "max"]

    /// Reads `{ min, p50, p99, max }` (max optional); reports quantiles out of order. Nil when the
    /// section is broken (reported).
    func readInterruptDelivery(_ value: YAMLValue) -> InterruptDelivery? {
        guard let mapping = value.mapping("the interrupt-delivery section", keys: Self.interruptDeliveryKeys, &diagnostics) else {
            return nil
        }
        func quantile(_ key: String) -> (Int64, SourceLocation)? {
            guard let value = mapping.required(key, expecting: YAMLValue.durationExpectation, &diagnostics),
                  let nanoseconds = value.duration(&diagnostics) else { return nil }
            return (nanoseconds, value.location)
        }
        let minimum = quantile("min"), p50 = quantile("p50"), p99 = quantile("p99")
        let maximum = mapping["max"].flatMap { value in value.duration(&diagnostics).map { ($0, value.location) } }
        guard let minimum, let p50, let p99, mapping["max"] == nil || maximum != nil else { return nil }
        let ordered = [("min", minimum), ("p50", p50), ("p99", p99)] + (maximum.map { [("max", $0)] } ?? [])
        for (earlier, later) in zip(ordered, ordered.dropFirst()) where later.1.0 < earlier.1.0 {
            diagnostics.error(
                "\(later.0) (\(Units.duration(later.1.0))) is below \(earlier.0) (\(Units.duration(earlier.1.0))): expected min ≤ p50 ≤ p99 ≤ max",
                at: later.1.1)
            return nil
        }
        return InterruptDelivery(minimumNanoseconds: minimum.0, p50Nanoseconds: p50.0, p99Nanoseconds: p99.0, maximumNanoseconds: maximum?.0)
    }
}
