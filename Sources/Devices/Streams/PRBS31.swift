/// The PRBS-31 register of `StreamPattern.prbs31` (ITU-T O.150: x^31 + x^28 + 1): one step makes
/// the next 32 sequence bits, and a jump-ahead places the register any number of words further
/// without producing them.
enum PRBS31 {
    /// The register's period in words: the sequence repeats every 2^31 − 1 bits, and 32 is prime
    /// to that, so the word sequence repeats every 2^31 − 1 words too.
    static let periodWords: UInt64 = 0x7FFF_FFFF

    /// 32 sequence bits as two 16-bit steps. With the register holding x[n-31] … x[n-1] in bits
    /// 0 … 30, the recurrence x[n] = x[n-31] ^ x[n-28] yields up to 28 new bits at once:
    /// bit k of (S ^ S >> 3).
    @inline(__always)
    static func step(_ state: inout UInt32) -> UInt32 {
        var s = state
        let low = (s ^ (s >> 3)) & 0xFFFF
        s = (s >> 16) | (low << 15)
        let high = (s ^ (s >> 3)) & 0xFFFF
        s = (s >> 16) | (high << 15)
        state = s
        return low | (high << 16)
    }

    /// The register `words` steps after `state`. A step is linear over GF(2), so k steps are the
    /// product of the precomputed 2^i-step matrices for the bits of k (at most 31 of them, each
    /// 31 columns): a few hundred operations however far the jump.
    static func advance(_ state: UInt32, words: UInt64) -> UInt32 {
        var k = words % periodWords
        var s = state
        var i = 0
        while k != 0 {  // bounded: k < 2^31
            if k & 1 != 0 { s = apply(jumpColumns, matrix: i, to: s) }
            k >>= 1
            i += 1
        }
        return s
    }

    /// Column j of matrix i is the register 2^i steps after the register holding only bit j.
    private static let jumpColumns: [UInt32] = {
        var columns = [UInt32](repeating: 0, count: 31 * 31)
        for j in 0..<31 {
            var s = UInt32(1) << j
            _ = step(&s)
            columns[j] = s
        }
        for i in 1..<31 {
            for j in 0..<31 { columns[i * 31 + j] = apply(columns, matrix: i - 1, to: columns[(i - 1) * 31 + j]) }
        }
        return columns
    }()

    /// Matrix `matrix` of `columns` times the register `s`: the XOR of the columns of its set bits.
    private static func apply(_ columns: [UInt32], matrix: Int, to s: UInt32) -> UInt32 {
        var result: UInt32 = 0
        for j in 0..<31 {
            result ^= columns[matrix * 31 + j] & (0 &- ((s >> UInt32(j)) & 1))
        }
        return result
    }
}
