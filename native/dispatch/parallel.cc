// Blocked and multi-threaded runs of a kernel (see parallel.h). Threads are created per call (no global pool:
// the addon keeps no state but its ISA choice) with the platform's C API, so that a failure to create one is
// an error code, not an exception: that block range then runs on the calling thread.
#include "parallel.h"

#include <cstdlib>
#include <thread>

#if defined(_WIN32)
#include <process.h>
#include <windows.h>
#else
#include <pthread.h>
#endif

namespace fused_bce {

namespace {

constexpr size_t kBlockTarget = size_t(1) << 16;
constexpr unsigned kMaxThreads = 16;

struct Job {
  KernelFn run;
  const KernelArgs* args;
  size_t blockSize, blocks;
  unsigned threads;
  double* blockSums;
};

// Thread t runs the blocks [t * blocks / threads, (t + 1) * blocks / threads).
void runShare(const Job& job, unsigned t) {
  const size_t first = job.blocks * t / job.threads;
  const size_t last = job.blocks * (t + 1) / job.threads;
  for (size_t b = first; b < last; ++b) {
    const size_t begin = b * job.blockSize;
    const size_t end = job.args->n - begin < job.blockSize ? job.args->n : begin + job.blockSize;
    job.blockSums[b] = job.run(elementRange(*job.args, begin, end));
  }
}

struct ThreadStart {
  const Job* job;
  unsigned index;
};

#if defined(_WIN32)
unsigned __stdcall threadMain(void* p) {
  const auto* s = static_cast<const ThreadStart*>(p);
  runShare(*s->job, s->index);
  return 0;
}
#else
void* threadMain(void* p) {
  const auto* s = static_cast<const ThreadStart*>(p);
  runShare(*s->job, s->index);
  return nullptr;
}
#endif

}  // namespace

size_t sumBlockSize(size_t classes) {
  if (classes >= kBlockTarget) return classes;
  return (kBlockTarget / classes) * classes;
}

unsigned autoThreads(size_t n) {
  if (n < (size_t(1) << 18)) return 1;
  unsigned hardware = std::thread::hardware_concurrency();
  if (hardware == 0) hardware = 1;
  const size_t byWork = n >> 17;
  size_t t = hardware < byWork ? hardware : byWork;
  if (t > kMaxThreads) t = kMaxThreads;
  return t < 1 ? 1 : static_cast<unsigned>(t);
}

double runBlocked(KernelFn run, const KernelArgs& args, unsigned threads) {
  const size_t n = args.n;
  if (n == 0) return run(args);
  const size_t blockSize = sumBlockSize(args.classes);
  const size_t blocks = (n + blockSize - 1) / blockSize;
  if (threads == 0) threads = autoThreads(n);
  if (threads > kMaxThreads) threads = kMaxThreads;
  if (threads > blocks) threads = static_cast<unsigned>(blocks);
  double* blockSums = threads > 1 ? static_cast<double*>(std::malloc(blocks * sizeof(double))) : nullptr;
  if (threads <= 1 || blockSums == nullptr) {
    double sum = 0;  // the same left-to-right sum of block sums as below, without storing them
    for (size_t begin = 0; begin < n; begin += blockSize) {
      const size_t end = n - begin < blockSize ? n : begin + blockSize;
      sum += run(elementRange(args, begin, end));
    }
    return sum;
  }
  const Job job{run, &args, blockSize, blocks, threads, blockSums};
  ThreadStart starts[kMaxThreads];
  bool started[kMaxThreads] = {};
#if defined(_WIN32)
  HANDLE handles[kMaxThreads] = {};
#else
  pthread_t handles[kMaxThreads];
#endif
  for (unsigned t = 1; t < threads; ++t) {
    starts[t] = {&job, t};
#if defined(_WIN32)
    handles[t] = reinterpret_cast<HANDLE>(_beginthreadex(nullptr, 0, threadMain, &starts[t], 0, nullptr));
    started[t] = handles[t] != nullptr;
#else
    started[t] = pthread_create(&handles[t], nullptr, threadMain, &starts[t]) == 0;
#endif
  }
  runShare(job, 0);
  for (unsigned t = 1; t < threads; ++t) {
    if (!started[t]) {
      runShare(job, t);
      continue;
    }
#if defined(_WIN32)
    WaitForSingleObject(handles[t], INFINITE);
    CloseHandle(handles[t]);
#else
    pthread_join(handles[t], nullptr);
#endif
  }
  double sum = 0;
  for (size_t b = 0; b < blocks; ++b) sum += blockSums[b];
  std::free(blockSums);
  return sum;
}

}  // namespace fused_bce
