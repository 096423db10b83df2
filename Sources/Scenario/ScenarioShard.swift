/// `--shard i/n`: scenario k (0-based, in the order given) belongs to shard (k mod n) + 1. Disjoint
/// and covering by construction, and independent of everything but the list.
public struct ScenarioShard: Sendable {
    public let index: Int
    public let count: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else { return nil }
        index = i
        count = n
    }

    public func slice<T>(_ items: [T]) -> [T] {
        items.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }
}

