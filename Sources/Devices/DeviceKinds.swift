import Board

/// The device kinds uioemu models: the registry the CLI, scenarios and tests give the profile loader
/// (`BoardProfile.load(path:registry:)`) and the one `DeviceSet` builds models from.
public enum DeviceKinds {
    /// A new kind (the scatter-gather core) is its folder here plus its line in this list.
    public static let standard = DeviceKindRegistry([AXIDMAKind()])
}
