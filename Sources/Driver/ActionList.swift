/// Up to six actions, stored inline: a state machine returns them without allocating. (No input
/// produces more than four. The capacity is kept small on purpose: the list is returned by value
/// once per input, and a larger one is copied with a `memcpy` call each time.)
public struct ActionList<Action: Equatable & Sendable>: Sequence, Equatable, Sendable {
    private var storage: (Action?, Action?, Action?, Action?, Action?, Action?) = (nil, nil, nil, nil, nil, nil)
    public private(set) var count = 0

    public init() {}

    mutating func append(_ action: Action) {
        switch count {
        case 0: storage.0 = action
        case 1: storage.1 = action
        case 2: storage.2 = action
        case 3: storage.3 = action
        case 4: storage.4 = action
        case 5: storage.5 = action
        default: preconditionFailure("more than six actions from one input")
        }
        count += 1
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
