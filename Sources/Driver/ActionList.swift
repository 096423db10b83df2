/// Up to six actions, stored inline: a state machine returns them without allocating. (No input
/// produces more than four. The capacity is kept small on purpose: the list is returned by value
/// once per input, and a larger one is copied with a `memcpy` call each time.)
public struct ActionList<Action: Equatable & Sendable>: Sequence, Equatable, Sendable {
    private var storage: (Action?, Action?, Action?, Action?, Action?, Action?) = (nil, nil, nil, nil, nil, nil)
    public private(set) var count = 0

    public init() {}

    /// A store at `count` in the tuple's memory (its six elements are one type, laid out at the
    /// type's stride), not a switch over `count`: inlined into the machine's inputs, three or four
    /// times per completion.
    @inline(__always)
    mutating func append(_ action: Action) {
        precondition(count < 6, "more than six actions from one input")
        let i = count
        withUnsafeMutableBytes(of: &storage) { $0.baseAddress!.assumingMemoryBound(to: Action?.self)[i] = action }
        count = i + 1
    }

    public subscript(i: Int) -> Action {
        precondition(i >= 0 && i < count)
        switch i {
        case 0: return storage.0!
        case 1: return storage.1!
        case 2: return storage.2!
        case 3: return storage.3!
        case 4: return storage.4!
        default: return storage.5!
        }
    }

    public struct Iterator: IteratorProtocol {
        let list: ActionList
        var i = 0
        public mutating func next() -> Action? {
            guard i < list.count else { return nil }
            defer { i += 1 }
            return list[i]
        }
    }

    public func makeIterator() -> Iterator { Iterator(list: self) }

    public var array: [Action] { Array(self) }

    public static func == (a: ActionList, b: ActionList) -> Bool { a.array == b.array }
}
