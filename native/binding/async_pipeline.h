// How an asynchronous call shares its work between the libuv pool and the main thread (async_call.h). The call
// is cut into chunks of whole sum blocks. A worker computes chunks in a ring of slots the call owns; the main
// thread, in turns between turns of the event loop (setImmediate), copies inputs into free slots and outputs out
// of computed ones and computes other chunks itself, in place: JavaScript cannot run while it does, so the
// caller's arrays cannot change under it. It fills the ring only while copying costs it less than computing (so
// for a cheap loss it computes nearly everything itself, in short turns; for an expensive one the two threads
// share the work). A turn is about a millisecond, so the event loop never waits long; the call takes about the
// synchronous call's time or less; and a call owns a ring of a few MB instead of copies of its arrays. The worker
// never waits for the main thread: it computes the entries it finds and ends; the main thread queues it again
// when it has filled more. Arrays on a SharedArrayBuffer are read and written in place by the worker too;
// arrays of one value per class are copied whole when the call starts. Each block's sum is stored and the sums
// are added in block order at the end, so the result is the bits of the synchronous call.
#pragma once
#include <node_api.h>

#include <cstddef>
#include <mutex>

#include "bce_call.h"
#include "ce_call.h"

namespace fused_bce {
namespace binding {

// What a chunk of an input must satisfy once copied, before a kernel reads it: the kernels' own preconditions,
// checked when the call started and again here, since the caller could have written the array since.
enum class InputCheck { kNone, kBinaryLabels, kClassIndices };

struct PipelineArray {
  int arg = -1;               // argument index (the loss's argument order)
  int output = -1;            // -1: an input; 0: lossOut; 1: gradOut
  size_t elementBytes = 0;
  size_t perUnit = 0;         // elements per unit (element or row); 0: one array for the call, copied whole
  size_t count = 0;           // elements
  bool shared = false;        // on a SharedArrayBuffer: used in place
  InputCheck check = InputCheck::kNone;
  size_t offset = 0;          // its chunk's place in a slot, or its whole copy's place in the block
  napi_ref ref = nullptr;     // the caller's array
};

// Slots in the ring.
constexpr size_t kPipelineSlots = 4;

// Why a call stopped before its end.
enum class PipelineError { kNone, kInvalidLabel, kInputGone, kOutputGone, kInputChanged, kNoWorker, kClosing };

struct AsyncCall {
  bool ce = false;  // which loss: BCE (call) or softmax cross-entropy (ceCall)
  Call call;
  CeCall ceCall;
  const IsaEntry* isa = nullptr;
  unsigned threads = 1;       // resolved: never 0 (auto), so that every chunk runs on as many
  napi_ref refs[8] = {};      // the arrays and the parameter block (argument order), alive until the call settles
  size_t refCount = 0;
  napi_ref paramsRef = nullptr;
  int sumSlot = 0, paramSlots = 0;
  bool wantLossSum = false;
  double sum = 0;
  napi_deferred deferred = nullptr;
  napi_async_work work = nullptr;
  bool settled = false;       // the promise is settled (main thread)
  bool workQueued = false;    // an async work for this call is queued or running (main thread)
  AsyncCall* nextWaiting = nullptr;  // the environment's list of calls waiting for a turn (main thread)
  bool waitingForTurn = false;
  bool startedTurns = false;  // the call's first turn, which only waits for the next, has run (main thread)

  // The ring and the arrays' layout in it.
  PipelineArray arrays[9];
  size_t arrayCount = 0;
  size_t units = 0, chunkUnits = 1, chunks = 0, slots = 0;
  size_t wholeBytes = 0, slotBytes = 0;
  char* block = nullptr;
  size_t blockBytes = 0;
  bool freshBlock = false;

  // The Uint8 label check a synchronous call makes before it starts, made here in the main thread's first turns
  // (a pass over n bytes: about 2 ms at 32M), before any chunk is claimed: labels [0, labelsChecked) are checked.
  size_t labelsToCheck = 0, labelsChecked = 0;
  size_t invalidLabelAt = 0;
  int invalidLabel = 0;
  size_t blocksPerChunk = 1;
  double* blockSums = nullptr;  // one per sum block of the call, in the block
  bool mayComputeInPlace = false;  // the main thread can come back for more (setImmediate is there)
  // The main thread's measured cost per unit of computing in place and of copying a chunk in and out (< 0:
  // not measured yet). It fills the ring only while copying is the cheaper of the two for it.
  double inPlaceCost = -1, fillCost = -1, drainCost = -1;

  // Progress. The ring holds entries, numbered from 0 in the order the main thread fills them: entry e sits in
  // slot e % slots and is chunk entryChunk[e % slots]. The main thread claims chunks in order (nextChunk) for
  // the ring or for itself. filled, drained and noMoreEntries are advanced by the main thread, computed by the
  // worker; these, ringReady and error are read and written under `mutex`.
  size_t entryChunk[kPipelineSlots] = {};
  size_t nextChunk = 0;
  std::mutex mutex;
  size_t filled = 0, computed = 0, drained = 0;
  bool noMoreEntries = false;    // the ring takes no more entries
  bool ringReady = true;         // false until a worker has paged in a fresh ring
  // A fresh ring is paged in once wanted: from the start for a large call, else once the main thread would fill
  // it (a call it computes alone never waits for the ring's page faults). Main thread only.
  bool ringWanted = false;
  PipelineError error = PipelineError::kNone;
};



// Lays the call's arrays out (which are streamed, copied whole or used in place; the ring's chunks and slots),
// takes the block and copies the whole arrays into it. Reads the arrays from argv (the loss's argument order,
// with `arrays` the present ones). Returns false if it cannot allocate.
bool planPipeline(napi_env env, AsyncCall* a, const napi_value* argv);

// Main thread, one turn (about a millisecond of work at most, besides draining): copies out the outputs of
// computed entries; then (unless `final`) claims chunks in order, filling free slots while copying costs the main
// thread less than computing, and computing the others in place (if a->mayComputeInPlace). Once copying is
// measured to cost more, the ring takes no more entries. Returns whether chunks are left for the main thread to
// claim (the caller schedules another turn). On an array gone or changed, records the error.
bool pumpPipeline(napi_env env, AsyncCall* a, bool final);

// Checks the Uint8 labels up to `until` (all, or as many as the turn's time allows when until < labelsToCheck is
// returned by the turn); records kInvalidLabel on the first bad one. Returns false if the call stopped.
bool checkLabelsUntil(napi_env env, AsyncCall* a, size_t until);

// Whether the ring holds filled entries that no worker has computed, or is wanted, may still take entries and is
// not paged in yet (a worker should be queued).
bool workForWorker(AsyncCall* a);

// Whether the block's ring has been paged in (or the block was not fresh): what the block cache keeps of it.
bool ringPagedIn(AsyncCall* a);

// Whether the call is ready to settle: no worker queued, and nothing left (every chunk claimed and every entry
// computed, or an error).
bool pipelineFinished(AsyncCall* a);

// Worker: pages in a fresh ring, then computes the filled entries in order until none is left, and returns.
void runPipeline(AsyncCall* a);

// Main thread, at completion: the loss sum, from the block sums in block order.
double pipelineSum(const AsyncCall* a);

// Records an error (the first one counts): the worker stops at its next entry.
void stopPipeline(AsyncCall* a, PipelineError error);

}  // namespace binding
}  // namespace fused_bce
