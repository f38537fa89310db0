"""org.lsoftmax.math.SplitMix64 in Python: the project's random streams, so the twin starts from the
same weights and visits the same batches as `bin/lsoftmax train` with the same --seed.

Vectorised with numpy where the Java sequence allows it (the longs of a stream are mix(state + k
gamma); the polar method consumes its doubles in pairs), sequential where it does not (the
Fisher-Yates swaps). The logarithm of the polar method is fdlibm's, as Java's StrictMath.log (the
C library's log differs from it in the last bit for some inputs), so the Gaussians, and the weights
drawn from them, are bit for bit the Java ones.
"""

import math
import struct

import numpy as np

MASK = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z):
    z &= MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def _mix_array(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


# fdlibm's __ieee754_log (java.lang.FdLibm.Log, i.e. StrictMath.log), transcribed
_LN2_HI = float.fromhex("0x1.62e42feep-1")
_LN2_LO = float.fromhex("0x1.a39ef35793c76p-33")
_LG1 = float.fromhex("0x1.5555555555593p-1")
_LG2 = float.fromhex("0x1.999999997fa04p-2")
_LG3 = float.fromhex("0x1.2492494229359p-2")
_LG4 = float.fromhex("0x1.c71c51d8e78afp-3")
_LG5 = float.fromhex("0x1.7466496cb03dep-3")
_LG6 = float.fromhex("0x1.39a09d078c69fp-3")
_LG7 = float.fromhex("0x1.2f112df3e5244p-3")
_TWO54 = 2.0 ** 54


def _high_low(x):
    bits = struct.unpack("<Q", struct.pack("<d", x))[0]
    high = bits >> 32
    return (high - (1 << 32) if high >= 1 << 31 else high), bits & 0xFFFFFFFF


def strict_log(x):
    """StrictMath.log(x) for a finite x > 0 (the polar method's s is in (0, 1))."""
    if not (x > 0.0 and math.isfinite(x)):
        raise ValueError(f"strict_log needs a finite positive argument, got {x}")
    hx, lx = _high_low(x)
    k = 0
    if hx < 0x00100000:  # subnormal: scale up
        k -= 54
        x *= _TWO54
        hx, lx = _high_low(x)
    k += (hx >> 20) - 1023
    hx &= 0x000FFFFF
    i = (hx + 0x95F64) & 0x100000
    x = struct.unpack("<d", struct.pack("<Q", ((hx | (i ^ 0x3FF00000)) << 32) | lx))[0]  # normalise x or x/2
    k += i >> 20
    f = x - 1.0
    if (0x000FFFFF & (2 + hx)) < 3:  # |f| < 2^-20
        if f == 0.0:
            if k == 0:
                return 0.0
            dk = float(k)
            return dk * _LN2_HI + dk * _LN2_LO
        r = f * f * (0.5 - 0.33333333333333333 * f)
        if k == 0:
            return f - r
        dk = float(k)
        return dk * _LN2_HI - ((r - dk * _LN2_LO) - f)
    s = f / (2.0 + f)
    dk = float(k)
    z = s * s
    i = hx - 0x6147A
    w = z * z
    j = 0x6B851 - hx
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    i |= j
    r = t2 + t1
    if i > 0:
        hfsq = 0.5 * f * f
        if k == 0:
            return f - (hfsq - s * (hfsq + r))
        return dk * _LN2_HI - ((hfsq - (s * (hfsq + r) + dk * _LN2_LO)) - f)
    if k == 0:
        return f - s * (f - r)
    return dk * _LN2_HI - ((s * (f - r) - dk * _LN2_LO) - f)


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK
        self.spare = None

    @classmethod
    def for_stream(cls, seed, stream_index):
        """SplitMix64.forStream: mix(seed ^ mix(streamIndex + GOLDEN_GAMMA))."""
        return cls(_mix((seed & MASK) ^ _mix(stream_index + GOLDEN_GAMMA)))

    def next_longs(self, count):
        """The next ``count`` outputs of nextLong, as uint64."""
        with np.errstate(over="ignore"):
            steps = np.arange(1, count + 1, dtype=np.uint64)
            states = np.uint64(self.state) + steps * np.uint64(GOLDEN_GAMMA)
            out = _mix_array(states)
        self.state = (self.state + count * GOLDEN_GAMMA) & MASK
        return out

    def next_doubles(self, count):
        """nextDouble: (nextLong >>> 11) * 2^-53."""
        return (self.next_longs(count) >> np.uint64(11)).astype(np.float64) * (2.0 ** -53)

    def gaussians(self, count):
        """The next ``count`` values of nextGaussian (Marsaglia polar method, pairs in order)."""
        result = []
        if self.spare is not None and count > 0:
            result.append(self.spare)
            self.spare = None
        while len(result) < count:
            pairs = max(16, int((count - len(result)) / 2 * 1.3) + 16)
            d = self.next_doubles(2 * pairs)
            u = 2.0 * d[0::2] - 1.0
            v = 2.0 * d[1::2] - 1.0
            s = u * u + v * v
            accepted = np.nonzero((s < 1.0) & (s != 0.0))[0]
            needed = count - len(result)
            # use the attempts up to the pair that completes the request; give back the rest
            used_pairs = min(len(accepted), (needed + 1) // 2)
            if used_pairs and 2 * used_pairs >= needed:
                # done: give back the attempts after the last one used, as Java has not drawn them yet
                unused = pairs - 1 - int(accepted[used_pairs - 1])
                self.state = (self.state - 2 * unused * GOLDEN_GAMMA) & MASK
            for index in accepted[:used_pairs]:
                si = float(s[index])
                factor = math.sqrt(-2.0 * strict_log(si) / si)
                result.append(float(u[index]) * factor)
                result.append(float(v[index]) * factor)
        if len(result) > count:
            self.spare = result.pop()
        return np.array(result, dtype=np.float64)

    def next_int(self, bound):
        """nextInt(bound) with java.util.Random's rejection of the top partial block."""
        while True:
            self.state = (self.state + GOLDEN_GAMMA) & MASK
            bits = _mix(self.state) >> 33
            value = bits % bound
            if bits - value + (bound - 1) < (1 << 31):
                return value

    def shuffle(self, values):
        """Fisher-Yates shuffle of a list or 1-D array, in place (SplitMix64.shuffle)."""
        n = len(values)
        if n < 2:
            return values
        # draws for i = n-1 .. 1 in order; a rejection (probability < bound / 2^31) redraws sequentially
        bits = (self.next_longs(n - 1) >> np.uint64(33)).astype(np.int64)
        bounds = np.arange(n, 1, -1, dtype=np.int64)
        js = bits % bounds
        rejected = np.nonzero(bits - js + (bounds - 1) >= (1 << 31))[0]
        if len(rejected):
            first = int(rejected[0])
            self.state = (self.state - (n - 1 - first) * GOLDEN_GAMMA) & MASK
            tail = [self.next_int(int(b)) for b in bounds[first:]]
            js = np.concatenate([js[:first], np.array(tail, dtype=np.int64)])
        for i, j in zip(range(n - 1, 0, -1), js.tolist()):
            values[i], values[j] = values[j], values[i]
        return values
