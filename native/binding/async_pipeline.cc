// The chunked pipeline of an asynchronous call (async_pipeline.h).
#include "async_pipeline.h"

#include <chrono>
#include <cstring>
#include <type_traits>

#include "../dispatch/parallel.h"
#include "../generated/contract.h"
#include "labels.h"
#include "owned_blocks.h"

namespace fused_bce {
namespace binding {

using namespace contract;

namespace {

// About this many elements per chunk (whole sum blocks, at least one per thread), and this many slots: a
// pump of the main thread copies at most a ring's worth (about 4.5 MB for BCE with Uint8 labels), and the
// worker has three chunks in hand while the main thread refills the fourth.
constexpr size_t kChunkElements = size_t(1) << 17;
constexpr size_t kSlots = 4;
constexpr size_t kAlign = 64;
constexpr double kTurnMs = 1.0;  // a turn of the main thread claims chunks until this much time is spent
// The ring is filled only while the main thread has more than this much work left (a trip through the libuv pool
// costs 0.05-0.2 ms, and the worker's last entries are copied out after it ends): below it, the main thread
// finishes the call sooner alone.
constexpr double kWorkerWorthMs = 2.0;
constexpr double kBatchChunks = 8;
constexpr size_t kPage = 4096;
constexpr size_t kPagesBetweenChecks = 64;  // a fresh ring's page-in asks whether it is still wanted this often
// A call of this many elements or more has its fresh ring paged in from the start (the worker will be wanted: at
// 0.25-0.5 ns per element the call outlasts kWorkerWorthMs); a smaller one once the main thread would fill it.
// Paging in only when wanted made the first call at 16M pause longer (the page faults then overlap its turns).
constexpr size_t kRingAtStartElements = size_t(1) << 23;

size_t alignUp(size_t bytes) { return (bytes + kAlign - 1) & ~(kAlign - 1); }

// Calls visit(pointer, count, arg, output, perUnit, check) for each array of a call's kernel arguments: the
// pointer (a reference, to be pointed elsewhere), its element count, its argument index, which output it is (0
// lossOut, 1 gradOut) or -1, its elements per unit (element for BCE, row for cross-entropy; 0 for an array of one
// value per class) and the check its chunks get. Null pointers are absent arrays.
template <class Visit>
void visitArrays(KernelArgs& k, Visit&& visit) {
  const size_t n = k.n;
  visit(k.logits, n, kPassLogits, -1, 1, InputCheck::kNone);
  visit(k.targetsF32, n, kPassTargets, -1, 1, InputCheck::kNone);
  visit(k.targetsU8, n, kPassTargets, -1, 1, InputCheck::kBinaryLabels);
  visit(k.posWeight, k.classes, kPassPosWeight, -1, 0, InputCheck::kNone);
  visit(k.weight, k.weightPerElement ? n : k.classes, kPassWeight, -1, k.weightPerElement ? 1 : 0, InputCheck::kNone);
  visit(k.gradOutput, n, kPassGradOutput, -1, 1, InputCheck::kNone);
  visit(k.lossOut, n, kPassLossOut, 0, 1, InputCheck::kNone);
  visit(k.gradOut, n, kPassGradOut, 1, 1, InputCheck::kNone);
}

template <class Visit>
void visitArrays(CeKernelArgs& k, Visit&& visit) {
  const size_t n = k.rows * k.classes, c = k.classes;
  visit(k.logits, n, kCePassLogits, -1, c, InputCheck::kNone);
  visit(k.probabilities, n, kCePassTargets, -1, c, InputCheck::kNone);
  visit(k.indicesI32, k.rows, kCePassTargets, -1, 1, InputCheck::kClassIndices);
  visit(k.indicesU16, k.rows, kCePassTargets, -1, 1, InputCheck::kClassIndices);
  visit(k.indicesU8, k.rows, kCePassTargets, -1, 1, InputCheck::kClassIndices);
  visit(k.weight, k.classes, kCePassWeight, -1, 0, InputCheck::kNone);
  visit(k.gradOutput, k.rows, kCePassGradOutput, -1, 1, InputCheck::kNone);
  visit(k.lossOut, k.rows, kCePassLossOut, 0, 1, InputCheck::kNone);
  visit(k.gradOut, n, kCePassGradOut, 1, c, InputCheck::kNone);
}

template <class Visit>
void visitCallArrays(AsyncCall* a, Visit&& visit) {
  if (a->ce) visitArrays(a->ceCall.args, visit);
  else visitArrays(a->call.args, visit);
}

// Whether a typed array is on a SharedArrayBuffer. A typed array's buffer is an ArrayBuffer or a SharedArrayBuffer,
// and napi_is_arraybuffer is false exactly for the latter, whatever its prototype chain says. Such memory cannot be
// detached, transferred away or shrunk (growable ones are refused), so a call that keeps the array referenced may
// read and write it in place.
bool onSharedBuffer(napi_env env, napi_value array) {
  napi_value buffer;
  napi_typedarray_type type;
  size_t length;
  void* data;
  bool isArrayBuffer = true;
  if (napi_get_typedarray_info(env, array, &type, &length, &data, &buffer, nullptr) != napi_ok) return false;
  return napi_is_arraybuffer(env, buffer, &isArrayBuffer) == napi_ok && !isArrayBuffer;
}

// The memory of the caller's array behind ref, if it still has `count` elements; else null.
char* stillThere(napi_env env, const PipelineArray& p) {
  napi_value value;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_reference_value(env, p.ref, &value) != napi_ok || value == nullptr ||
      napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok) {
    return nullptr;
  }
  return length == p.count && data != nullptr ? static_cast<char*>(data) : nullptr;
}

char* slotOf(AsyncCall* a, size_t entry) { return a->block + a->wholeBytes + (entry % a->slots) * a->slotBytes; }

size_t chunkBegin(const AsyncCall* a, size_t chunk) { return chunk * a->chunkUnits; }
size_t chunkEnd(const AsyncCall* a, size_t chunk) {
  const size_t end = (chunk + 1) * a->chunkUnits;
  return end < a->units ? end : a->units;
}

bool streamed(const PipelineArray& p) { return p.perUnit != 0 && !p.shared; }

// Whether a chunk of an input (a copy, or the caller's own memory) satisfies what the kernel relies on.
bool chunkValid(const AsyncCall* a, const PipelineArray& p, const char* data, size_t units) {
  if (p.check == InputCheck::kBinaryLabels) {
    return firstInvalidLabel(reinterpret_cast<const uint8_t*>(data), units) == units;
  }
  if (p.check == InputCheck::kClassIndices) {
    const CeKernelArgs& k = a->ceCall.args;
    const size_t classes = k.classes;
    ClassIndexScan scan{};
    if (p.elementBytes == 4) scan = scanClassIndices(reinterpret_cast<const int32_t*>(data), units, classes, k.ignoreIndex, nullptr);
    else if (p.elementBytes == 2) scan = scanClassIndices(reinterpret_cast<const uint16_t*>(data), units, classes, k.ignoreIndex, nullptr);
    else scan = scanClassIndices(reinterpret_cast<const uint8_t*>(data), units, classes, k.ignoreIndex, nullptr);
    return scan.invalidRow == units;
  }
  return true;
}

// Copies the inputs of a chunk into the slot of ring entry `entry`. Returns the error, if an input is gone or
// changed.
PipelineError fillEntry(napi_env env, AsyncCall* a, size_t entry, size_t chunk) {
  char* slot = slotOf(a, entry);
  const size_t begin = chunkBegin(a, chunk), units = chunkEnd(a, chunk) - begin;
  for (size_t k = 0; k < a->arrayCount; ++k) {
    const PipelineArray& p = a->arrays[k];
    if (p.output >= 0 || !streamed(p)) continue;
    const char* caller = stillThere(env, p);
    if (caller == nullptr) return PipelineError::kInputGone;
    const size_t unitBytes = p.perUnit * p.elementBytes;
    std::memcpy(slot + p.offset, caller + begin * unitBytes, units * unitBytes);
    if (!chunkValid(a, p, slot + p.offset, units)) return PipelineError::kInputChanged;
  }
  a->entryChunk[entry % a->slots] = chunk;
  return PipelineError::kNone;
}

// Copies the outputs of a computed entry into the caller's arrays.
PipelineError drainEntry(napi_env env, AsyncCall* a, size_t entry) {
  const char* slot = slotOf(a, entry);
  const size_t chunk = a->entryChunk[entry % a->slots];
  const size_t begin = chunkBegin(a, chunk), units = chunkEnd(a, chunk) - begin;
  for (size_t k = 0; k < a->arrayCount; ++k) {
    const PipelineArray& p = a->arrays[k];
    if (p.output < 0 || !streamed(p)) continue;
    char* caller = stillThere(env, p);
    if (caller == nullptr) return PipelineError::kOutputGone;
    const size_t unitBytes = p.perUnit * p.elementBytes;
    std::memcpy(caller + begin * unitBytes, slot + p.offset, units * unitBytes);
  }
  return PipelineError::kNone;
}

// Points a chunk's kernel arguments (already offset to the chunk, for arrays used in place) at `where(p)`, for
// each streamed array p.
template <class Args, class Where>
void pointStreamed(AsyncCall* a, Args& args, Where&& where) {
  size_t k = 0;
  visitArrays(args, [&](auto*& pointer, size_t, int, int, size_t, InputCheck) {
    if (pointer == nullptr) return;
    const PipelineArray& p = a->arrays[k++];
    using T = std::remove_reference_t<decltype(pointer)>;
    if (streamed(p)) pointer = reinterpret_cast<T>(where(p));
  });
}

// Runs `count` consecutive chunks as one blocked run, their streamed arrays at where(p); their block sums go to
// a->blockSums.
template <class Where>
void runChunks(AsyncCall* a, size_t chunk, size_t count, Where&& where) {
  const size_t begin = chunkBegin(a, chunk), end = chunkEnd(a, chunk + count - 1);
  double* sums = a->blockSums + chunk * a->blocksPerChunk;
  if (a->ce) {
    CeKernelArgs args = rowRange(a->ceCall.args, begin, end);
    pointStreamed(a, args, where);
    runCeBlocked(a->isa->runCe, args, a->threads, sums);
  } else {
    KernelArgs args = elementRange(a->call.args, begin, end);
    pointStreamed(a, args, where);
    runBlocked(a->isa->run, args, a->threads, sums);
  }
}

// Main thread: computes `count` consecutive chunks on the caller's arrays themselves (nothing else runs on this
// thread meanwhile, so they cannot be detached or resized), after checking that they are all still there and
// their labels valid.
PipelineError computeInPlace(napi_env env, AsyncCall* a, size_t chunk, size_t count) {
  char* callers[9] = {};
  const size_t begin = chunkBegin(a, chunk), units = chunkEnd(a, chunk + count - 1) - begin;
  for (size_t k = 0; k < a->arrayCount; ++k) {
    const PipelineArray& p = a->arrays[k];
    if (!streamed(p)) continue;
    callers[k] = stillThere(env, p);
    if (callers[k] == nullptr) return p.output >= 0 ? PipelineError::kOutputGone : PipelineError::kInputGone;
    callers[k] += begin * p.perUnit * p.elementBytes;
    if (p.output < 0 && !chunkValid(a, p, callers[k], units)) return PipelineError::kInputChanged;
  }
  runChunks(a, chunk, count, [&](const PipelineArray& p) { return callers[&p - a->arrays]; });
  return PipelineError::kNone;
}

}  // namespace

bool planPipeline(napi_env env, AsyncCall* a, const napi_value* argv) {
  const size_t classes = a->ce ? a->ceCall.args.classes : a->call.args.classes;
  a->units = a->ce ? a->ceCall.args.rows : a->call.args.n;
  const size_t elements = a->ce ? a->units * classes : a->units;
  const unsigned requested = a->ce ? a->ceCall.threads : a->call.threads;
  a->threads = requested == 0 ? autoThreads(elements) : requested;
  const unsigned available = availableThreads();
  const size_t working = a->threads < available ? a->threads : available;

  // Chunks of whole sum blocks: at least one block per working thread, about kChunkElements elements.
  const size_t blockUnits = a->ce ? ceBlockRows(classes) : sumBlockSize(classes);
  const size_t blockElements = a->ce ? blockUnits * classes : blockUnits;
  size_t blocksPerChunk = (kChunkElements + blockElements - 1) / blockElements;
  if (blocksPerChunk < working) blocksPerChunk = working;
  a->blocksPerChunk = blocksPerChunk;
  a->chunkUnits = blockUnits * blocksPerChunk;
  a->chunks = (a->units + a->chunkUnits - 1) / a->chunkUnits;
  a->slots = a->chunks < kSlots ? a->chunks : kSlots;

  // The layout: the block sums and whole copies first, then the slots.
  a->arrayCount = 0;
  size_t whole = alignUp(a->chunks * blocksPerChunk * sizeof(double)), slot = 0;
  visitCallArrays(a, [&](auto*& pointer, size_t count, int arg, int output, size_t perUnit, InputCheck check) {
    if (pointer == nullptr) return;
    PipelineArray& p = a->arrays[a->arrayCount++];
    p = PipelineArray{};
    p.arg = arg;
    p.output = output;
    p.elementBytes = sizeof *pointer;
    p.perUnit = perUnit;
    p.count = count;
    p.shared = onSharedBuffer(env, argv[arg]);
    p.check = check;
    if (p.shared) return;
    if (perUnit == 0) {
      p.offset = whole;
      whole += alignUp(count * p.elementBytes);
    } else {
      p.offset = slot;
      slot += alignUp(a->chunkUnits * perUnit * p.elementBytes);
    }
  });
  a->wholeBytes = whole;
  a->slotBytes = slot;
  const size_t bytes = whole + a->slots * slot;
  a->block = static_cast<char*>(takeBlock(bytes == 0 ? 1 : bytes, &a->blockBytes, &a->freshBlock));
  if (a->block == nullptr) return false;
  a->blockSums = reinterpret_cast<double*>(a->block);
  a->ringReady = !a->freshBlock;
  a->ringWanted = elements >= kRingAtStartElements;

  // Whole arrays are copied now, and read there.
  size_t k = 0;
  visitCallArrays(a, [&](auto*& pointer, size_t count, int, int, size_t perUnit, InputCheck) {
    if (pointer == nullptr) return;
    const PipelineArray& p = a->arrays[k++];
    if (p.shared || perUnit != 0) return;
    using T = std::remove_const_t<std::remove_reference_t<decltype(*pointer)>>;
    T* copy = reinterpret_cast<T*>(a->block + p.offset);
    std::memcpy(copy, pointer, count * sizeof(T));
    pointer = copy;
  });
  return true;
}

void stopPipeline(AsyncCall* a, PipelineError error) {
  std::lock_guard<std::mutex> lock(a->mutex);
  if (a->error == PipelineError::kNone) a->error = error;
}

namespace {

double nowMs() { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// A running estimate: the new measurement, averaged with the last.
void measure(double& cost, double ms, size_t units) {
  const double perUnit = ms / static_cast<double>(units == 0 ? 1 : units);
  cost = cost < 0 ? perUnit : 0.5 * (cost + perUnit);
}

// The ring takes no more entries.
void closeRing(AsyncCall* a) {
  std::lock_guard<std::mutex> lock(a->mutex);
  a->noMoreEntries = true;
}

}  // namespace

bool checkLabelsUntil(napi_env env, AsyncCall* a, size_t until) {
  if (a->labelsChecked >= until) return true;
  const PipelineArray* labels = nullptr;
  for (size_t k = 0; k < a->arrayCount; ++k) {
    if (a->arrays[k].check == InputCheck::kBinaryLabels) labels = &a->arrays[k];
  }
  const char* data = labels == nullptr ? nullptr : stillThere(env, *labels);
  if (data == nullptr) return stopPipeline(a, PipelineError::kInputGone), false;
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(data);
  const size_t bad = a->labelsChecked + firstInvalidLabel(bytes + a->labelsChecked, until - a->labelsChecked);
  if (bad < until) {
    a->invalidLabelAt = bad;
    a->invalidLabel = bytes[bad];
    return stopPipeline(a, PipelineError::kInvalidLabel), false;
  }
  a->labelsChecked = until;
  return true;
}

bool pumpPipeline(napi_env env, AsyncCall* a, bool final) {
  size_t computed;
  bool ringReady;
  {
    std::lock_guard<std::mutex> lock(a->mutex);
    if (a->error != PipelineError::kNone) return false;
    computed = a->computed;
    ringReady = a->ringReady;
  }
  for (; a->drained < computed; ++a->drained) {
    const double start = nowMs();
    const PipelineError error = drainEntry(env, a, a->drained);
    if (error != PipelineError::kNone) return stopPipeline(a, error), false;
    const size_t chunk = a->entryChunk[a->drained % a->slots];
    measure(a->drainCost, nowMs() - start, chunkEnd(a, chunk) - chunkBegin(a, chunk));
  }
  if (final) return false;
  const double turnStart = nowMs();
  // The label check first, in slices, until the turn's time is up; nothing is claimed before it is done.
  constexpr size_t kLabelSlice = size_t(1) << 20;
  while (a->labelsChecked < a->labelsToCheck) {
    const size_t until = a->labelsToCheck - a->labelsChecked > kLabelSlice ? a->labelsChecked + kLabelSlice : a->labelsToCheck;
    if (!checkLabelsUntil(env, a, until)) return false;
    if (a->labelsChecked < a->labelsToCheck && nowMs() - turnStart >= kTurnMs) return a->mayComputeInPlace;
  }
  while (a->nextChunk < a->chunks) {
    const size_t chunk = a->nextChunk, units = chunkEnd(a, chunk) - chunkBegin(a, chunk);
    // Copying pays while it costs the main thread less than computing (both measured: the first chunk is
    // computed in place, the next copied; the drain is taken to cost what the fill did until measured) and the
    // main thread has enough work left to share.
    const double copyCost = a->fillCost < 0 ? -1 : a->fillCost + (a->drainCost < 0 ? a->fillCost : a->drainCost);
    const double leftMs = a->inPlaceCost * static_cast<double>(a->units - chunkBegin(a, chunk));
    const bool copyPays = !a->mayComputeInPlace ||
                          (a->inPlaceCost >= 0 && leftMs > kWorkerWorthMs && (copyCost < 0 || copyCost < a->inPlaceCost));
    // (For good: the work left only shrinks, and the measured costs are not revisited.)
    if (!a->noMoreEntries && a->mayComputeInPlace && a->inPlaceCost >= 0 &&
        (leftMs <= kWorkerWorthMs || (copyCost >= 0 && copyCost >= a->inPlaceCost))) {
      closeRing(a);
    }
    if (!a->noMoreEntries && copyPays && !ringReady) a->ringWanted = true;  // computed in place meanwhile
    if (!a->noMoreEntries && copyPays && ringReady && a->filled < a->drained + a->slots) {
      const double start = nowMs();
      const PipelineError error = fillEntry(env, a, a->filled, chunk);
      if (error != PipelineError::kNone) return stopPipeline(a, error), false;
      measure(a->fillCost, nowMs() - start, units);
      ++a->nextChunk;
      {
        std::lock_guard<std::mutex> lock(a->mutex);
        ++a->filled;
      }
      continue;
    }
    const double spent = nowMs() - turnStart;
    if (!a->mayComputeInPlace || spent >= kTurnMs) break;
    // Once the ring takes no more, as many chunks as half the rest of the turn holds by the measured cost (at most
    // kBatchChunks, should the estimate be off) go in one blocked run: one wake-up of the pool's helpers
    // (threads > 1) instead of one per chunk.
    size_t count = 1;
    if (a->noMoreEntries && a->inPlaceCost > 0) {
      double fits = 0.5 * (kTurnMs - spent) / (a->inPlaceCost * static_cast<double>(a->chunkUnits));
      if (fits > kBatchChunks) fits = kBatchChunks;
      const size_t left = a->chunks - chunk;
      count = fits < 1 ? 1 : fits >= static_cast<double>(left) ? left : static_cast<size_t>(fits);
    }
    const size_t batchUnits = chunkEnd(a, chunk + count - 1) - chunkBegin(a, chunk);
    const double start = nowMs();
    const PipelineError error = computeInPlace(env, a, chunk, count);
    if (error != PipelineError::kNone) return stopPipeline(a, error), false;
    measure(a->inPlaceCost, nowMs() - start, batchUnits);
    a->nextChunk += count;
  }
  if (a->nextChunk == a->chunks) {
    if (!a->noMoreEntries) closeRing(a);
    return false;
  }
  return a->mayComputeInPlace;
}

bool ringPagedIn(AsyncCall* a) {
  std::lock_guard<std::mutex> lock(a->mutex);
  return a->ringReady;
}

bool workForWorker(AsyncCall* a) {
  std::lock_guard<std::mutex> lock(a->mutex);
  return a->error == PipelineError::kNone &&
         (a->computed < a->filled || (!a->ringReady && a->ringWanted && !a->noMoreEntries));
}

bool pipelineFinished(AsyncCall* a) {
  if (a->workQueued) return false;
  std::lock_guard<std::mutex> lock(a->mutex);
  return a->error != PipelineError::kNone || (a->nextChunk == a->chunks && a->computed == a->filled);
}

void runPipeline(AsyncCall* a) {
  if (a->chunks == 0) {  // nothing to read or write: the kernel's result for an empty call
    a->sum = a->ce ? runCeBlocked(a->isa->runCe, a->ceCall.args, a->threads) : runBlocked(a->isa->run, a->call.args, a->threads);
    return;
  }
  bool ringReady;
  {
    std::lock_guard<std::mutex> lock(a->mutex);
    ringReady = a->ringReady;
  }
  if (!ringReady) {
    // Fresh pages are faulted in here rather than on the main thread, which fills the ring once they are. The main
    // thread may meanwhile close the ring unfilled (it computed everything itself): then the rest is left, so
    // that the call does not wait for page faults it has no use for.
    char* ring = a->block + a->wholeBytes;
    const size_t bytes = a->slots * a->slotBytes, step = kPagesBetweenChecks * kPage;
    for (size_t b = 0; b < bytes; b += step) {
      {
        std::lock_guard<std::mutex> lock(a->mutex);
        if (a->noMoreEntries || a->error != PipelineError::kNone) return;
      }
      pageIn(ring + b, bytes - b < step ? bytes - b : step);
    }
    std::lock_guard<std::mutex> lock(a->mutex);
    a->ringReady = true;
  }
  for (;;) {
    size_t entry;
    {
      std::lock_guard<std::mutex> lock(a->mutex);
      if (a->error != PipelineError::kNone || a->computed == a->filled) return;
      entry = a->computed;
    }
    char* slot = slotOf(a, entry);
    runChunks(a, a->entryChunk[entry % a->slots], 1, [&](const PipelineArray& p) { return slot + p.offset; });
    std::lock_guard<std::mutex> lock(a->mutex);
    a->computed = entry + 1;
  }
}
double pipelineSum(const AsyncCall* a) {
  if (a->chunks == 0) return a->sum;
  const size_t blockUnits = a->chunkUnits / a->blocksPerChunk;
  const size_t blocks = (a->units + blockUnits - 1) / blockUnits;
  double sum = 0;
  for (size_t b = 0; b < blocks; ++b) sum += a->blockSums[b];
  return sum;
}

}  // namespace binding
}  // namespace fused_bce
