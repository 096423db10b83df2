/// A grow-only array on manually managed memory, for trivial element types only.
///
/// The reactor's queues live here instead of in `Array` because every `Array` mutation through a
/// class property costs a uniqueness check and a dynamic exclusivity check, and the hot path must
/// have neither (DESIGN.md, "The per-completion hot path"). Bounds are checked in debug builds.
@usableFromInline
struct RawBuffer<Element> {
    @usableFromInline var base: UnsafeMutablePointer<Element>
    @usableFromInline var capacity: Int

    init(capacity: Int) {
        assert(_isPOD(Element.self), "RawBuffer holds trivial values only")
        self.capacity = max(capacity, 4)
        base = .allocate(capacity: self.capacity)
    }

    @inline(__always)
    subscript(i: Int) -> Element {
        get { assert(i >= 0 && i < capacity, "RawBuffer index out of range"); return base[i] }
        nonmutating set { assert(i >= 0 && i < capacity, "RawBuffer index out of range"); base[i] = newValue }
    }

    /// Makes room for `needed` elements, keeping the first `count` ones; grows by doubling.
    @inline(__always)
    mutating func reserve(_ needed: Int, keeping count: Int) {
        if needed > capacity { grow(to: needed, keeping: count) }
    }

    @inline(never)
    private mutating func grow(to needed: Int, keeping count: Int) {
        precondition(count >= 0 && count <= capacity, "RawBuffer keeps \(count) of \(capacity) elements")
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    func deallocate() { base.deallocate() }
}
