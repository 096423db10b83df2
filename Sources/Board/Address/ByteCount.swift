/// Human units for byte counts and frequencies, shared by the profile reader (parsing) and the
/// renderers (printing) so that what `board show` prints can be pasted back into a profile.
public enum Units {
    /// Binary size units, largest first.
    public static let sizeUnits: [(name: String, bytes: UInt64)] = [
        ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1),
    ]
    /// Frequency units, largest first.
    public static let frequencyUnits: [(name: String, hertz: UInt64)] = [
        ("GHz", 1_000_000_000), ("MHz", 1_000_000), ("kHz", 1_000), ("Hz", 1),
    ]

    /// Duration units, largest first (`us` and `µs` are the same).
    public static let durationUnits: [(name: String, nanoseconds: UInt64)] = [
        ("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000), ("µs", 1_000), ("ns", 1),
    ]

    /// `nanoseconds` in the largest unit that divides it exactly: `35 us`, `1500 ns`, `0 ns`.
    public static func duration(_ nanoseconds: Int64) -> String {
        for unit in durationUnits where unit.name != "µs" && nanoseconds >= Int64(unit.nanoseconds) && nanoseconds % Int64(unit.nanoseconds) == 0 {
            return "\(nanoseconds / Int64(unit.nanoseconds)) \(unit.name)"
        }
        return "\(nanoseconds) ns"
    }

    /// `bytes` in the largest binary unit that divides it exactly: `64 KiB`, `1 GiB`, `6 KiB`, `100 B`.
    public static func size(_ bytes: UInt64) -> String {
        for unit in sizeUnits where bytes >= unit.bytes && bytes % unit.bytes == 0 {
            return "\(bytes / unit.bytes) \(unit.name)"
        }
        return "\(bytes) B"
    }

    /// `hertz` in the largest unit that divides it exactly: `400 MHz`, `1200 MHz`, `33333333 Hz`.
    public static func frequency(_ hertz: UInt64) -> String {
        for unit in frequencyUnits where hertz >= unit.hertz && hertz % unit.hertz == 0 {
            return "\(hertz / unit.hertz) \(unit.name)"
        }
        return "\(hertz) Hz"
    }
}
