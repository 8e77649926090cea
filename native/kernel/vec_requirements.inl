// The operations a vector type V (vec_*.inl) must provide, listed once: a kernel uses these and nothing else, so a
// new ISA implements this list, and a new kernel that needs more adds it here first. Every kernel template
// static_asserts RequireVectorType<V>, so that a missing or mistyped operation is named at compile time.
// F is V's float vector, M its lane mask, D a vector of doubles with F's lanes, Acc a float64 accumulator.
//
//  constants     kWidth (lanes), kHasScaleFloor (scaleFloor exists), kHasLoadColumns, kHasStoreFirst (those exist),
//                kSumLogits (cross-entropy's smoothing distances as C max - sum x, the sum taken with the max),
//                kLog1pTableSize (16 or 32),
//                kExpFirst (runSpan computes e^-|x| of a chunk first), kFastPathInDouble (the fast path's loss and
//                gradient run in double lanes from e^-|x| on: where fma is emulated and double lanes are cheap),
//                kExpTable (e^t from the 16-entry table, else from a polynomial: where a lookup is costly)
//  memory        load(const float*) -> F, store(float*, F), loadLabelIsOne(const uint8_t*) -> M (kWidth labels)
//  lanes         set1(float) -> F, firstLanes(size_t count) -> M, select(M, F a, F b) -> F (a where set), any(M),
//                transpose(F* v): v[0..kWidth) as the rows of a square matrix, replaced by its columns;
//                loadColumns(const float* p, size_t stride, size_t columns, float* out), where kHasLoadColumns: columns
//                [0, columns) of the kWidth x kWidth tile with rows at p + l stride, to out + c kWidth (rows read
//                no further than kWidth); storeFirst(float* p, F v, size_t count), where kHasStoreFirst: lanes
//                [0, count) only
//  arithmetic    add, sub, mul, div (F, F) -> F; fma(a, b, c) = a b + c, fms = a b - c, fnma = c - a b, each rounded
//                once; mulAdd(a, b, c): a b + c, fused or not (only where either rounding is fine)
//  sign, limits  abs, negAbs (-|a|) -> F; maxKeepNan(a, b): max, NaN in a kept; mulUnlessZero(a, b): 0 where
//                a == 0 (even for infinite b), else a b
//  comparisons   lt, ge, eq (F, F) -> M (false for NaN); notInUnitInterval(F) -> M (outside [0, 1] or NaN, by bits);
//                maskXor(M, M) -> M (the lanes set in exactly one)
//  tables        Table16, Table32; loadTable16/32(const float*); lookup16/32(table, F index): the entry selected
//                by index's low 4/5 bits; addShiftedBits19(a, b): a's bits plus b's bits << 19
//  exp pieces    reciprocalEstimate(F) -> F (relative error <= 2^-14); scaleByPow2(p, k) = p 2^k rounded once
//                (k integral); scaleFloor(p, k) = p 2^floor(k), where kHasScaleFloor
//  double lanes  widen(F) -> D, widenLoad(const float*) -> D (widen(load(p)); where widening the upper half costs a
//                shuffle: each half converted from memory), narrow(D) -> F (rounded once), storeNarrowed(float*, D) (store(p, narrow(d)), where
//                joining the halves costs a shuffle: stored by halves), dset1(double), dadd, dsub, dmul, ddiv, dsqrt, dmin,
//                dmax (a < b ? b : a: NaN in a kept), dfma,
//                dselect(M, D, D), dload(const double*) -> D, dstore(double*, D) (kWidth doubles)
//  exponent      exponentOf(F) = floor(log2 a), mantissaOf(F) = a / 2^floor(log2 a), for positive normal a
//  sums          Acc (zero when constructed), accumulate(Acc&, F) adds F's lanes in double, accumulateDouble(Acc&, D)
//                adds D's lanes, total(const Acc&) -> double
namespace fused_bce {
namespace FUSED_BCE_TARGET {

// Comparing vector types as template arguments drops their alignment attributes, which GCC warns about; nothing
// here is ever a value, so the attributes do not matter.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

namespace requirements {
template <class...>
using Void = void;

// Has_<name><V>: whether V::<name>(args...) exists and returns R (the list above, one line each).
#define FUSED_BCE_REQUIRE(name, R, ...)                                                              \
  template <class V, class = void>                                                                \
  struct Has_##name : std::false_type {};                                                         \
  template <class V>                                                                              \
  struct Has_##name<V, Void<decltype(V::name(__VA_ARGS__))>>                                       \
      : std::is_same<decltype(V::name(__VA_ARGS__)), R> {};

#define FUSED_BCE_F std::declval<typename V::F>()
#define FUSED_BCE_M std::declval<typename V::M>()
#define FUSED_BCE_D std::declval<typename V::D>()
FUSED_BCE_REQUIRE(load, typename V::F, std::declval<const float*>())
FUSED_BCE_REQUIRE(store, void, std::declval<float*>(), FUSED_BCE_F)
FUSED_BCE_REQUIRE(loadLabelIsOne, typename V::M, std::declval<const uint8_t*>())
FUSED_BCE_REQUIRE(set1, typename V::F, 1.0f)
FUSED_BCE_REQUIRE(firstLanes, typename V::M, size_t{1})
FUSED_BCE_REQUIRE(select, typename V::F, FUSED_BCE_M, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(any, bool, FUSED_BCE_M)
FUSED_BCE_REQUIRE(transpose, void, std::declval<typename V::F*>())
FUSED_BCE_REQUIRE(loadColumns, void, std::declval<const float*>(), size_t{1}, size_t{1}, std::declval<float*>())
FUSED_BCE_REQUIRE(storeFirst, void, std::declval<float*>(), FUSED_BCE_F, size_t{1})
FUSED_BCE_REQUIRE(add, typename V::F, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(sub, typename V::F, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(mul, typename V::F, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(div, typename V::F, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(fma, typename V::F, FUSED_BCE_F, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(fms, typename V::F, FUSED_BCE_F, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(fnma, typename V::F, FUSED_BCE_F, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(mulAdd, typename V::F, FUSED_BCE_F, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(abs, typename V::F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(negAbs, typename V::F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(maxKeepNan, typename V::F, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(mulUnlessZero, typename V::F, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(lt, typename V::M, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(ge, typename V::M, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(eq, typename V::M, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(maskXor, typename V::M, FUSED_BCE_M, FUSED_BCE_M)
FUSED_BCE_REQUIRE(notInUnitInterval, typename V::M, FUSED_BCE_F)
FUSED_BCE_REQUIRE(loadTable16, typename V::Table16, std::declval<const float*>())
FUSED_BCE_REQUIRE(loadTable32, typename V::Table32, std::declval<const float*>())
FUSED_BCE_REQUIRE(lookup16, typename V::F, std::declval<typename V::Table16>(), FUSED_BCE_F)
FUSED_BCE_REQUIRE(lookup32, typename V::F, std::declval<const typename V::Table32&>(), FUSED_BCE_F)
FUSED_BCE_REQUIRE(addShiftedBits19, typename V::F, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(reciprocalEstimate, typename V::F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(scaleByPow2, typename V::F, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(scaleFloor, typename V::F, FUSED_BCE_F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(widen, typename V::D, FUSED_BCE_F)
FUSED_BCE_REQUIRE(widenLoad, typename V::D, std::declval<const float*>())
FUSED_BCE_REQUIRE(narrow, typename V::F, FUSED_BCE_D)
FUSED_BCE_REQUIRE(storeNarrowed, void, std::declval<float*>(), FUSED_BCE_D)
FUSED_BCE_REQUIRE(dset1, typename V::D, 1.0)
FUSED_BCE_REQUIRE(dadd, typename V::D, FUSED_BCE_D, FUSED_BCE_D)
FUSED_BCE_REQUIRE(dsub, typename V::D, FUSED_BCE_D, FUSED_BCE_D)
FUSED_BCE_REQUIRE(dmul, typename V::D, FUSED_BCE_D, FUSED_BCE_D)
FUSED_BCE_REQUIRE(ddiv, typename V::D, FUSED_BCE_D, FUSED_BCE_D)
FUSED_BCE_REQUIRE(dsqrt, typename V::D, FUSED_BCE_D)
FUSED_BCE_REQUIRE(dmin, typename V::D, FUSED_BCE_D, FUSED_BCE_D)
FUSED_BCE_REQUIRE(dmax, typename V::D, FUSED_BCE_D, FUSED_BCE_D)
FUSED_BCE_REQUIRE(dfma, typename V::D, FUSED_BCE_D, FUSED_BCE_D, FUSED_BCE_D)
FUSED_BCE_REQUIRE(dselect, typename V::D, FUSED_BCE_M, FUSED_BCE_D, FUSED_BCE_D)
FUSED_BCE_REQUIRE(dload, typename V::D, std::declval<const double*>())
FUSED_BCE_REQUIRE(dstore, void, std::declval<double*>(), FUSED_BCE_D)
FUSED_BCE_REQUIRE(exponentOf, typename V::F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(mantissaOf, typename V::F, FUSED_BCE_F)
FUSED_BCE_REQUIRE(accumulate, void, std::declval<typename V::Acc&>(), FUSED_BCE_F)
FUSED_BCE_REQUIRE(accumulateDouble, void, std::declval<typename V::Acc&>(), FUSED_BCE_D)
FUSED_BCE_REQUIRE(total, double, std::declval<const typename V::Acc&>())
#undef FUSED_BCE_F
#undef FUSED_BCE_M
#undef FUSED_BCE_D
#undef FUSED_BCE_REQUIRE
}  // namespace requirements

// Instantiated by every kernel template: one static_assert per listed operation, so the error names it.
template <class V>
struct RequireVectorType {
  static_assert(std::is_same<decltype(V::kWidth), const size_t>::value, "V::kWidth: the lanes, a size_t constant");
  static_assert(std::is_same<decltype(V::kHasScaleFloor), const bool>::value, "V::kHasScaleFloor: a bool constant");
  static_assert(std::is_same<decltype(V::kHasLoadColumns), const bool>::value, "V::kHasLoadColumns: a bool constant");
  static_assert(std::is_same<decltype(V::kHasStoreFirst), const bool>::value, "V::kHasStoreFirst: a bool constant");
  static_assert(std::is_same<decltype(V::kSumLogits), const bool>::value, "V::kSumLogits: a bool constant");
  static_assert(!V::kHasLoadColumns || requirements::Has_loadColumns<V>::value, "V::loadColumns(const float*, size_t, size_t, float*) (kHasLoadColumns)");
  static_assert(!V::kHasStoreFirst || requirements::Has_storeFirst<V>::value, "V::storeFirst(float*, F, size_t) (kHasStoreFirst)");
  static_assert(V::kLog1pTableSize == 16 || V::kLog1pTableSize == 32, "V::kLog1pTableSize: 16 or 32");
  static_assert(std::is_same<decltype(V::kExpFirst), const bool>::value, "V::kExpFirst: a bool constant");
  static_assert(std::is_same<decltype(V::kFastPathInDouble), const bool>::value, "V::kFastPathInDouble: a bool constant");
  static_assert(std::is_same<decltype(V::kExpTable), const bool>::value, "V::kExpTable: a bool constant");
  static_assert(requirements::Has_load<V>::value, "V::load(const float*) -> F");
  static_assert(requirements::Has_store<V>::value, "V::store(float*, F)");
  static_assert(requirements::Has_loadLabelIsOne<V>::value, "V::loadLabelIsOne(const uint8_t*) -> M");
  static_assert(requirements::Has_set1<V>::value, "V::set1(float) -> F");
  static_assert(requirements::Has_firstLanes<V>::value, "V::firstLanes(size_t) -> M");
  static_assert(requirements::Has_select<V>::value, "V::select(M, F, F) -> F");
  static_assert(requirements::Has_any<V>::value, "V::any(M) -> bool");
  static_assert(requirements::Has_transpose<V>::value, "V::transpose(F*)");
  static_assert(requirements::Has_add<V>::value, "V::add(F, F) -> F");
  static_assert(requirements::Has_sub<V>::value, "V::sub(F, F) -> F");
  static_assert(requirements::Has_mul<V>::value, "V::mul(F, F) -> F");
  static_assert(requirements::Has_div<V>::value, "V::div(F, F) -> F");
  static_assert(requirements::Has_fma<V>::value, "V::fma(F, F, F) -> F");
  static_assert(requirements::Has_fms<V>::value, "V::fms(F, F, F) -> F");
  static_assert(requirements::Has_fnma<V>::value, "V::fnma(F, F, F) -> F");
  static_assert(requirements::Has_mulAdd<V>::value, "V::mulAdd(F, F, F) -> F");
  static_assert(requirements::Has_abs<V>::value, "V::abs(F) -> F");
  static_assert(requirements::Has_negAbs<V>::value, "V::negAbs(F) -> F");
  static_assert(requirements::Has_maxKeepNan<V>::value, "V::maxKeepNan(F, F) -> F");
  static_assert(requirements::Has_mulUnlessZero<V>::value, "V::mulUnlessZero(F, F) -> F");
  static_assert(requirements::Has_lt<V>::value, "V::lt(F, F) -> M");
  static_assert(requirements::Has_ge<V>::value, "V::ge(F, F) -> M");
  static_assert(requirements::Has_eq<V>::value, "V::eq(F, F) -> M");
  static_assert(requirements::Has_maskXor<V>::value, "V::maskXor(M, M) -> M");
  static_assert(requirements::Has_notInUnitInterval<V>::value, "V::notInUnitInterval(F) -> M");
  static_assert(requirements::Has_loadTable16<V>::value, "V::loadTable16(const float*) -> Table16");
  static_assert(requirements::Has_loadTable32<V>::value, "V::loadTable32(const float*) -> Table32");
  static_assert(requirements::Has_lookup16<V>::value, "V::lookup16(Table16, F) -> F");
  static_assert(requirements::Has_lookup32<V>::value, "V::lookup32(const Table32&, F) -> F");
  static_assert(requirements::Has_addShiftedBits19<V>::value, "V::addShiftedBits19(F, F) -> F");
  static_assert(requirements::Has_reciprocalEstimate<V>::value, "V::reciprocalEstimate(F) -> F");
  static_assert(requirements::Has_scaleByPow2<V>::value, "V::scaleByPow2(F, F) -> F");
  static_assert(!V::kHasScaleFloor || requirements::Has_scaleFloor<V>::value, "V::scaleFloor(F, F) -> F (kHasScaleFloor)");
  static_assert(requirements::Has_widen<V>::value, "V::widen(F) -> D");
  static_assert(requirements::Has_widenLoad<V>::value, "V::widenLoad(const float*) -> D");
  static_assert(requirements::Has_narrow<V>::value, "V::narrow(D) -> F");
  static_assert(requirements::Has_storeNarrowed<V>::value, "V::storeNarrowed(float*, D)");
  static_assert(requirements::Has_dset1<V>::value, "V::dset1(double) -> D");
  static_assert(requirements::Has_dadd<V>::value, "V::dadd(D, D) -> D");
  static_assert(requirements::Has_dsub<V>::value, "V::dsub(D, D) -> D");
  static_assert(requirements::Has_dmul<V>::value, "V::dmul(D, D) -> D");
  static_assert(requirements::Has_ddiv<V>::value, "V::ddiv(D, D) -> D");
  static_assert(requirements::Has_dsqrt<V>::value, "V::dsqrt(D) -> D");
  static_assert(requirements::Has_dmin<V>::value, "V::dmin(D, D) -> D");
  static_assert(requirements::Has_dmax<V>::value, "V::dmax(D, D) -> D");
  static_assert(requirements::Has_dfma<V>::value, "V::dfma(D, D, D) -> D");
  static_assert(requirements::Has_dselect<V>::value, "V::dselect(M, D, D) -> D");
  static_assert(requirements::Has_dload<V>::value, "V::dload(const double*) -> D");
  static_assert(requirements::Has_dstore<V>::value, "V::dstore(double*, D)");
  static_assert(requirements::Has_exponentOf<V>::value, "V::exponentOf(F) -> F");
  static_assert(requirements::Has_mantissaOf<V>::value, "V::mantissaOf(F) -> F");
  static_assert(requirements::Has_accumulate<V>::value, "V::accumulate(Acc&, F)");
  static_assert(requirements::Has_accumulateDouble<V>::value, "V::accumulateDouble(Acc&, D)");
  static_assert(requirements::Has_total<V>::value, "V::total(const Acc&) -> double");
  static constexpr bool kChecked = true;
};

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
