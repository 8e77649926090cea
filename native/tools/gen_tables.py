#!/usr/bin/env python3
"""Generates native/generated/bce_tables.h: the tables and polynomial coefficients of the kernel's exp and log1p.

  python3 native/tools/gen_tables.py > native/generated/bce_tables.h      (needs numpy and mpmath)

exp(t) = 2^(k/16) * e^r, k = round(16 t / ln 2), |r| <= ln 2 / 32: a 16-entry table of 2^(j/16) and
  e^r - 1 = r + c2 r^2 + c3 r^3.
log1p(e), e in [0, 1]: j = round(N e), a table of N + 1 points c_j near 1 / (1 + j / N) chosen so that
  -log(c_j) is within a small fraction of an ulp of a float, r = c_j e + (c_j - 1) (exactly e for j = 0), and
  log1p(r) = r + r^2 P(r); log1p(e) = -log(c_j) + log1p(r). Two tables: N = 31 with P of degree 2, N = 15 with
  P of degree 3 (AVX2, where a lookup costs a permute per 8 entries).
exp(t) without a table, where a table lookup is not one instruction (V::kExpTable false: wasm): k = round(t / ln 2),
  e^r = 1 + r + r^2 (e2 + e3 r + ... + e6 r^4) on |r| <= ln2 / 2.
log1p(e) without a table, where double lanes are cheap and table lookups are not (V::kFastPathInDouble):
  log1p(e) = 2 atanh(s), s = e / (2 + e) in [0, 1/3]: S + S z Q(z) with S = 2 s, z = s^2 in [0, 1/9].
Coefficients are fitted for minimax error by Lawson's iteratively reweighted least squares, then rounded to
float; the errors printed in the header are measured on the rounded coefficients against mpmath.
"""
import struct
import sys

import mpmath
import numpy as np

mpmath.mp.prec = 120


def f32(x):
    return struct.unpack("<f", struct.pack("<f", float(x)))[0]


def bits(x):
    return struct.unpack("<I", struct.pack("<f", float(x)))[0]


def _hexf(x):
    """x rounded to float, as a C99 hex float literal."""
    x = f32(x)
    if x == 0:
        return "0x0p+0f"
    s = float(x).hex()  # e.g. 0x1.7154760000000p+4
    sign = "-" if s.startswith("-") else ""
    s = s.lstrip("-")
    mant, exp = s[2:].split("p")
    head, frac = mant.split(".") if "." in mant else (mant, "")
    frac = frac.rstrip("0")
    return f"{sign}0x{head}{'.' + frac if frac else ''}p{exp}f"


def lawson(basis, target, weight, xs, iterations=200):
    """Coefficients of sum_i c_i basis_i(x) minimising max |weight(x) (sum - target(x))| (Lawson IRLS)."""
    A = np.array([[b(x) for b in basis] for x in xs]) * np.array([weight(x) for x in xs])[:, None]
    y = np.array([target(x) for x in xs]) * np.array([weight(x) for x in xs])
    lw = np.ones(len(xs)) / len(xs)
    coef = None
    for _ in range(iterations):
        sw = np.sqrt(lw)
        coef, *_ = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)
        err = np.abs(A @ coef - y)
        lw = lw * err
        lw /= lw.sum()
    return coef


def cheb_nodes(lo, hi, count):
    k = np.arange(count)
    return list(0.5 * (lo + hi) + 0.5 * (hi - lo) * np.cos(np.pi * (k + 0.5) / count))


# ---- exp: e^r - 1 = r + c2 r^2 + c3 r^3 on |r| <= ln2/32 (plus a margin for the reduction's rounding)
R_EXP = float(mpmath.log(2)) / 32 * 1.002
xs = [x for x in cheb_nodes(-R_EXP, R_EXP, 400) if abs(x) > 1e-12]
exp_target = lambda r: float((mpmath.expm1(r) - r) / (r * r))
c2, c3 = lawson([lambda r: 1.0, lambda r: r], exp_target, lambda r: r * r, xs)
c2, c3 = f32(c2), f32(c3)
exp_err = max(abs(float((1 + r + c2 * r * r + c3 * r ** 3 - mpmath.exp(r)) / mpmath.exp(r))) for r in np.linspace(-R_EXP, R_EXP, 20001))

# ln2/16 split for the Cody-Waite reduction: hi with 12 significant bits (k needs at most 12: |t| <= 104.5)
LN2_16_HI = float.fromhex("0x1.62ep-5")
assert abs(LN2_16_HI - float(mpmath.log(2) / 16)) < 2.0 ** -16

# ---- the 2^(j/16) table (float, correctly rounded) and its largest rounding error
exp2_table = [f32(mpmath.power(2, mpmath.mpf(j) / 16)) for j in range(16)]
exp2_err = max(abs(float((exp2_table[j] - mpmath.power(2, mpmath.mpf(j) / 16)) / mpmath.power(2, mpmath.mpf(j) / 16))) for j in range(16))
# Their rounding errors relative to the entries, as floats: 2^(j/16) = kExp2Table[j] (1 + ratio_j) within 2^-47
# (the focal kernel's double exp, focal_math.inl).
exp2_table_lo_ratio = [f32(float(mpmath.power(2, mpmath.mpf(j) / 16) / mpmath.mpf(exp2_table[j]) - 1)) for j in range(16)]
exp2_pair_err = max(abs(float((mpmath.mpf(exp2_table[j]) * (1 + mpmath.mpf(exp2_table_lo_ratio[j])) - mpmath.power(2, mpmath.mpf(j) / 16)) / mpmath.power(2, mpmath.mpf(j) / 16))) for j in range(16))
assert exp2_pair_err < 2.0 ** -47
# ln2/16 as a double pair, for the double reduction r = t - k ln2/16 (each k * part is exact inside an fma)
LN2_16_HI_D = float(mpmath.log(2) / 16)
LN2_16_LO_D = float(mpmath.log(2) / 16 - mpmath.mpf(LN2_16_HI_D))

# ---- log1p tables: points c_j and -log(c_j), and the polynomial on the reduced argument
def log1p_table(points, degree):
    """points + 1 table points c_j near 1 / (1 + j / points) (c_0 = 1) whose -log(c_j) is within a small fraction
    of an ulp of a float, and log1p(r) = r + r^2 (a2 + a3 r + ...) of the given degree fitted on the reduced
    argument's range. Returns a dict of the table, the coefficients and the measured errors."""
    log_c, log_neg_log = [1.0], [0.0]
    worst_log_rel = 0.0
    for j in range(1, points + 1):
        target = 1 / (1 + j / points)
        centre = bits(target)
        best = None
        for b in range(centre - 2048, centre + 2049):
            c = struct.unpack("<f", struct.pack("<I", b))[0]
            v = -mpmath.log(mpmath.mpf(c))
            rounded = f32(float(v))
            ulp = 2.0 ** (int(mpmath.floor(mpmath.log(abs(rounded), 2))) - 23)
            miss = abs(float(v - rounded)) / ulp
            if best is None or miss < best[0]:
                best = (miss, c, rounded, float(v))
        miss, c, rounded, exact = best
        log_c.append(c)
        log_neg_log.append(rounded)
        worst_log_rel = max(worst_log_rel, abs(rounded - exact) / exact)
    # the reduced argument's range: e in [(j - 1/2)/points, (j + 1/2)/points] (clipped to [0, 1]), r = c_j (1 + e) - 1
    r_lo, r_hi = 0.0, 0.0
    for j in range(points + 1):
        e_lo = max(0.0, (j - 0.5) / points)
        e_hi = min(1.0, (j + 0.5) / points)
        r_lo = min(r_lo, log_c[j] * (1 + e_lo) - 1)
        r_hi = max(r_hi, log_c[j] * (1 + e_hi) - 1)
    r_lo *= 1.001
    r_hi *= 1.001
    xs = [x for x in cheb_nodes(r_lo, r_hi, 600) if abs(x) > 1e-12]
    target = lambda r: float((mpmath.log1p(r) - r) / (r * r))
    basis = [(lambda k: (lambda r: r ** k))(k) for k in range(degree - 1)]
    coef = [f32(a) for a in lawson(basis, target, lambda r: r * r / abs(float(mpmath.log1p(r))), xs)]
    tail = lambda r: sum(a * r ** k for k, a in enumerate(coef))
    err = max(abs(float((r + r * r * tail(r) - mpmath.log1p(r)) / mpmath.log1p(r)))
              for r in np.linspace(r_lo, r_hi, 20001) if abs(r) > 1e-12)
    return dict(points=points, degree=degree, c=log_c, neg_log=log_neg_log, worst_log_rel=worst_log_rel,
                r_lo=r_lo, r_hi=r_hi, coef=coef, err=err)


LOG1P_TABLES = [log1p_table(31, 4), log1p_table(15, 5)]


# ---- exp without a table: e^r = 1 + r + r^2 E(r), E of degree 4, on |r| <= ln2/2 (plus a margin for the reduction)
R_EXP_WIDE = float(mpmath.log(2)) / 2 * 1.002
xs = [x for x in cheb_nodes(-R_EXP_WIDE, R_EXP_WIDE, 600) if abs(x) > 1e-9]
exp_wide_coef = [f32(a) for a in lawson([(lambda k: (lambda r: r ** k))(k) for k in range(5)], exp_target, lambda r: r * r / float(mpmath.exp(r)), xs)]
exp_wide_err = max(abs(float((1 + r + r * r * sum(a * r ** k for k, a in enumerate(exp_wide_coef)) - mpmath.exp(r)) / mpmath.exp(r)))
                   for r in np.linspace(-R_EXP_WIDE, R_EXP_WIDE, 20001))
# ln2 split for its reduction: hi with 16 significant bits (k * hi is exact for |k| <= 151)
LN2_HI = float.fromhex("0x1.62e4p-1")
assert abs(LN2_HI - float(mpmath.log(2))) < 2.0 ** -16

# ---- log1p by atanh: Q(z) = (atanh(s) / s - 1) / z = 1/3 + z/5 + ..., z = s^2 in [0, 1/9], degree 4 in float.
# Its term S z Q(z) is at most 3.7% of log1p(e), so an error of Q reaches the result at z Q / (1 + z Q) of it.
Z_ATANH = 1.0 / 9
atanh_q = lambda z: float((mpmath.atanh(mpmath.sqrt(z)) / mpmath.sqrt(z) - 1) / z)
xs = [x for x in cheb_nodes(0, Z_ATANH * 1.001, 400) if x > 1e-12]
atanh_coef = [f32(a) for a in lawson([(lambda k: (lambda z: z ** k))(k) for k in range(5)], atanh_q, lambda z: 1 / atanh_q(z), xs)]
atanh_poly = lambda z: sum(a * z ** k for k, a in enumerate(atanh_coef))
# the error of S + S z Q(z) against log1p(e) from Q's, relative, over the range
atanh_err = max(abs(float(mpmath.mpf(z) * (mpmath.mpf(atanh_poly(z)) - atanh_q(z)) / (1 + mpmath.mpf(z) * atanh_q(z))))
                for z in np.linspace(1e-9, Z_ATANH, 4001))


def write_log1p_table(out, t):
    size = t["points"] + 1
    terms = " + ".join(["a2"] + [f"a{k + 2} r{'^' + str(k) if k > 1 else ''}" for k in range(1, t["degree"] - 1)])
    out.write(f"""// {size} points: j = round({t['points']} e), r in [{t['r_lo']:.6g}, {t['r_hi']:.6g}], log1p(r) = r + r^2 ({terms});
// max relative error of the polynomial against log1p(r): {t['err']:.3g} ({t['err'] / 2**-24:.3f} x 2^-24); each -log(c_j) is
// within {t['worst_log_rel']:.2g} (relative) of its float, so one float carries it.
struct Log1pTable{size} {{
  static constexpr unsigned kSize = {size};
  static constexpr float kIndexScale = {t['points']}.0f;
  static constexpr int kDegree = {t['degree']};
""")
    for k, a in enumerate(t["coef"]):
        out.write(f"  static constexpr float kA{k + 2} = {_hexf(a)};\n")
    out.write(f"  alignas(64) static constexpr float kPoint[{size}] = {{\n")
    for j in range(0, size, 4):
        out.write("      " + ", ".join(_hexf(v) for v in t["c"][j:j + 4]) + ",\n")
    out.write(f"  }};\n  alignas(64) static constexpr float kNegLogPoint[{size}] = {{\n")
    for j in range(0, size, 4):
        out.write("      " + ", ".join(_hexf(v) for v in t["neg_log"][j:j + 4]) + ",\n")
    out.write("  };\n};\n")


out = sys.stdout
out.write(f"""// Generated by native/tools/gen_tables.py: do not edit by hand. Plain float arrays and constants only (no SIMD
// values in static initialisers: they would run before the dispatcher checks the CPU).
// Errors below are of the real-number functions with these float coefficients (measured against mpmath); the
// float evaluation adds its roundings (README: Accuracy, measured end to end).
#pragma once
#include <cstdint>

namespace fused_bce {{
namespace tables {{

// exp: k = round(t * 16 / ln 2), r = t - k ln2/16 (ln2/16 as hi + lo), e^t = 2^(k/16) (1 + r + c2 r^2 + c3 r^3).
// |r| <= {R_EXP:.6g}; max relative error of 1 + r + c2 r^2 + c3 r^3 against e^r: {exp_err:.3g} ({exp_err / 2**-24:.3f} x 2^-24).
constexpr float kExpC2 = {_hexf(c2)};
constexpr float kExpC3 = {_hexf(c3)};
constexpr float kSixteenOverLn2 = {_hexf(16 / float(mpmath.log(2)))};
constexpr float kLn2Over16Hi = {_hexf(LN2_16_HI)};  // 12 significant bits: k * hi is exact for |k| < 2^12
constexpr float kLn2Over16Lo = {_hexf(float(mpmath.log(2) / 16 - mpmath.mpf(LN2_16_HI)))};
// Round-to-integer magic: adding 1.5 * 2^23 leaves the integer in the low mantissa bits (|x| < 2^22), with the
// low 13 bits of its own pattern zero, so that bits(z) << 19 carries floor(k / 16) into the exponent field.
constexpr float kRoundMagic = 0x1.8p+23f;
// 2^(j/16), correctly rounded (largest relative rounding error {exp2_err:.3g}, {exp2_err / 2**-24:.3f} ulp).
alignas(64) constexpr float kExp2Table[16] = {{
""")
for j in range(0, 16, 4):
    out.write("    " + ", ".join(_hexf(v) for v in exp2_table[j:j + 4]) + ",\n")
out.write("};\n")
out.write("""// The same entries with j << 19 subtracted from their bits (as floats: the patterns are normal numbers near 1):
// bits(kExp2TableLessIndex[j]) + (bits(z) << 19) is the pattern of 2^(j/16) 2^floor(k/16) while that is a
// normal float (bits(z) = bits(kRoundMagic) + k, k = 16 floor(k/16) + j).
alignas(64) constexpr float kExp2TableLessIndex[16] = {
""")
adj = [struct.unpack("<f", struct.pack("<I", bits(exp2_table[j]) - (j << 19)))[0] for j in range(16)]
for j in range(0, 16, 4):
    out.write("    " + ", ".join(_hexf(v) for v in adj[j:j + 4]) + ",\n")
out.write(f"""}};
// 2^(j/16) / kExp2Table[j] - 1 rounded to float: kExp2Table[j] (1 + this) is 2^(j/16) within {exp2_pair_err:.3g} relative.
alignas(64) constexpr float kExp2TableLoRatio[16] = {{
""")
for j in range(0, 16, 4):
    out.write("    " + ", ".join(_hexf(v) for v in exp2_table_lo_ratio[j:j + 4]) + ",\n")
out.write(f"""}};
// ln2/16 as hi + lo doubles (the double exp's reduction).
constexpr double kLn2Over16HiD = {LN2_16_HI_D.hex()};
constexpr double kLn2Over16LoD = {LN2_16_LO_D.hex()};
// e^t is subnormal below this t (k < -2000): there the exponent can no longer be added to the bits.
constexpr float kExpNormalLimit = -0x1.5ap+6f;  // -86.5

// log1p(e), e in [0, 1], from a table of N + 1 points: j = round(N e) (e * N + kRoundMagic leaves j in the low
// bits), r = c_j e + (c_j - 1), log1p(e) = -log(c_j) + r + r^2 P(r). c_0 = 1, so for e < 1/(2N) the result keeps
// e's relative accuracy. Two sizes, one per cost of a lookup (an ISA's vector type picks one, V::kLog1pTableSize):
// 32 points where a 32-entry lookup costs what a 16-entry one does (one permute, or loads), 16 points and a
// polynomial one degree higher where each 8 entries cost a permute (AVX2).
""")
for t in LOG1P_TABLES:
    write_log1p_table(out, t)
out.write(f"""
// exp without a table (V::kExpTable false): k = round(t / ln 2), r = t - k ln2 (ln2 as hi + lo),
// e^t = 2^k (1 + r + r^2 (e2 + e3 r + e4 r^2 + e5 r^3 + e6 r^4)); |r| <= {R_EXP_WIDE:.6g}; max relative error of the
// polynomial against e^r: {exp_wide_err:.3g} ({exp_wide_err / 2**-24:.3f} x 2^-24).
constexpr float kOneOverLn2 = {_hexf(1 / float(mpmath.log(2)))};
constexpr float kLn2Hi = {_hexf(LN2_HI)};  // 16 significant bits: k * hi is exact for |k| < 2^8
constexpr float kLn2Lo = {_hexf(float(mpmath.log(2) - mpmath.mpf(LN2_HI)))};
""")
for k, a in enumerate(exp_wide_coef):
    out.write(f"constexpr float kExpWideE{k + 2} = {_hexf(a)};\n")
out.write(f"""
// log1p(e) = S + S z Q(z), S = 2 e / (2 + e), z = (S / 2)^2 in [0, 1/9] (2 atanh(s) = 2 s (1 + s^2 / 3 + s^4 / 5 + ...)):
// Q(z) = q0 + q1 z + ... + q4 z^4, whose error reaches log1p(e) at most {atanh_err:.3g} ({atanh_err / 2**-24:.4f} x 2^-24) relative.
""")
for k, a in enumerate(atanh_coef):
    out.write(f"constexpr float kAtanhTailQ{k} = {_hexf(a)};\n")
out.write("""
}  // namespace tables
}  // namespace fused_bce
""")
