// Blocked and multi-threaded runs of a kernel (see parallel.h) on a persistent pool of worker threads, created
// on first use and sized by the CPUs this process may really use (its affinity mask and, on Linux, its cgroup
// CPU quota), so that a container limited to two CPUs does not start sixteen threads. A call hands out its
// blocks through an atomic counter to its own thread and up to threads - 1 workers; each block's sum is stored
// at its index and the sums are added in block order, so the bits do not depend on which thread ran what. The
// calling thread always works on its own call, so a call finishes even when every worker is busy elsewhere.
// Threads are created with the platform's C API, so a failure is an error code, not an exception: the pool is
// then smaller (at worst empty, and every call runs on its caller).
#include "parallel.h"

#include "../generated/contract.h"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#if defined(_WIN32)
#include <process.h>
#include <windows.h>
#else
#include <pthread.h>
#include <sched.h>
#endif

namespace fused_bce {

namespace {

constexpr size_t kBlockTarget = size_t(1) << 16;

// CPUs the process may run on: the affinity mask where the platform has one, else the hardware's count.
unsigned affinityCpus() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return static_cast<unsigned>(count);
  }
#endif
  const unsigned hardware = std::thread::hardware_concurrency();
  return hardware == 0 ? 1 : hardware;
}

// The cgroup CPU quota in whole CPUs (rounded up), or 0 where there is none: cgroup v2 cpu.max ("max 100000" or
// "200000 100000"), else cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us.
unsigned cgroupCpus() {
#if defined(__linux__)
  long long quota = -1, period = 0;
  if (FILE* f = std::fopen("/sys/fs/cgroup/cpu.max", "r")) {
    char first[32] = {};
    if (std::fscanf(f, "%31s %lld", first, &period) == 2 && std::strcmp(first, "max") != 0) quota = std::atoll(first);
    std::fclose(f);
  } else if (FILE* q = std::fopen("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "r")) {
    if (std::fscanf(q, "%lld", &quota) != 1) quota = -1;
    std::fclose(q);
    if (FILE* p = std::fopen("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "r")) {
      if (std::fscanf(p, "%lld", &period) != 1) period = 0;
      std::fclose(p);
    }
  }
  if (quota > 0 && period > 0) return static_cast<unsigned>((quota + period - 1) / period);
#endif
  return 0;
}

// One blocked run over `units` (elements or rows) in blocks of blockSize: its blocks are claimed through `next`; it
// is finished when its caller's share is done and no worker still holds it (a worker leaves only after the blocks
// it claimed are written).
struct Job {
  double (*runRange)(const void* work, size_t begin, size_t end);
  const void* work;
  size_t units, blockSize, blocks;
  double* blockSums;
  unsigned helpersWanted;
  unsigned helpers = 0;   // workers that joined (under the pool's mutex)
  unsigned holding = 0;   // workers still inside it (under the pool's mutex)
  std::atomic<size_t> next{0};
  Job* nextJob = nullptr;  // the pool's queue of jobs that want helpers

  void run() {
    for (size_t b = next.fetch_add(1); b < blocks; b = next.fetch_add(1)) {
      const size_t begin = b * blockSize;
      const size_t end = units - begin < blockSize ? units : begin + blockSize;
      blockSums[b] = runRange(work, begin, end);
    }
  }
};

class Pool {
 public:
  static Pool& instance() {
    static Pool* pool = new Pool();  // never destroyed: its threads live as long as the process
    return *pool;
  }
  unsigned workers() const { return workers_; }

  // Runs the job on the calling thread with up to job.helpersWanted workers, and returns when it is finished.
  void run(Job& job) {
    if (job.helpersWanted > 0 && workers_ > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      job.nextJob = nullptr;
      Job** tail = &queue_;
      while (*tail != nullptr) tail = &(*tail)->nextJob;
      *tail = &job;
      wake_.notify_all();
    }
    job.run();
    std::unique_lock<std::mutex> lock(mutex_);
    unlink(&job);  // no further worker can join
    finished_.wait(lock, [&job] { return job.holding == 0; });
  }

 private:
  Pool() {
    const unsigned quota = cgroupCpus();
    unsigned cpus = affinityCpus();
    if (quota != 0 && quota < cpus) cpus = quota;
    for (unsigned t = 1; t < cpus && t < parallelThreadLimit(); ++t) {
      if (!startWorker()) break;
      ++workers_;
    }
  }

  bool startWorker() {
#if defined(_WIN32)
    const uintptr_t handle = _beginthreadex(nullptr, 0, &Pool::threadMain, this, 0, nullptr);
    if (handle == 0) return false;
    CloseHandle(reinterpret_cast<HANDLE>(handle));
    return true;
#else
    pthread_t thread;
    if (pthread_create(&thread, nullptr, &Pool::threadMain, this) != 0) return false;
    pthread_detach(thread);
    return true;
#endif
  }

#if defined(_WIN32)
  static unsigned __stdcall threadMain(void* pool) {
    static_cast<Pool*>(pool)->loop();
    return 0;
  }
#else
  static void* threadMain(void* pool) {
    static_cast<Pool*>(pool)->loop();
    return nullptr;
  }
#endif

  void unlink(Job* job) {
    for (Job** p = &queue_; *p != nullptr; p = &(*p)->nextJob) {
      if (*p == job) {
        *p = job->nextJob;
        return;
      }
    }
  }

  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return queue_ != nullptr; });
      Job* job = queue_;
      ++job->helpers;
      ++job->holding;
      if (job->helpers >= job->helpersWanted) unlink(job);  // enough helpers: the next worker looks further
      lock.unlock();
      job->run();
      lock.lock();
      if (--job->holding == 0) finished_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, finished_;
  Job* queue_ = nullptr;
  unsigned workers_ = 0;
};

}  // namespace

unsigned parallelThreadLimit() { return contract::kMaxThreads; }

unsigned availableThreads() { return Pool::instance().workers() + 1; }

size_t sumBlockSize(size_t classes) {
  if (classes >= kBlockTarget) return classes;
  return (kBlockTarget / classes) * classes;
}

unsigned autoThreads(size_t n) {
  if (n < (size_t(1) << 18)) return 1;
  const size_t byWork = n >> 17;
  const unsigned available = availableThreads();
  return byWork < available ? static_cast<unsigned>(byWork < 1 ? 1 : byWork) : available;
}

namespace {

// Runs runRange over [0, units) in blocks of blockSize on up to `threads` threads (0: by `elements`), and returns
// the block sums added in block order from 0 (each also stored in sumsOut, if given).
double runBlocks(double (*runRange)(const void*, size_t, size_t), const void* work, size_t units, size_t blockSize,
                 size_t elements, unsigned threads, double* sumsOut) {
  const size_t blocks = (units + blockSize - 1) / blockSize;
  if (threads == 0) threads = autoThreads(elements);
  if (threads > blocks) threads = static_cast<unsigned>(blocks);
  const unsigned helpers = threads > 1 ? (threads - 1 < Pool::instance().workers() ? threads - 1 : Pool::instance().workers()) : 0;
  double* blockSums = helpers == 0 ? nullptr : sumsOut != nullptr ? sumsOut : static_cast<double*>(std::malloc(blocks * sizeof(double)));
  if (blockSums == nullptr) {
    double sum = 0;  // the same left-to-right sum of block sums as below
    for (size_t b = 0, begin = 0; begin < units; ++b, begin += blockSize) {
      const size_t end = units - begin < blockSize ? units : begin + blockSize;
      const double blockSum = runRange(work, begin, end);
      if (sumsOut != nullptr) sumsOut[b] = blockSum;
      sum += blockSum;
    }
    return sum;
  }
  Job job;
  job.runRange = runRange;
  job.work = work;
  job.units = units;
  job.blockSize = blockSize;
  job.blocks = blocks;
  job.blockSums = blockSums;
  job.helpersWanted = helpers;
  Pool::instance().run(job);
  double sum = 0;
  for (size_t b = 0; b < blocks; ++b) sum += blockSums[b];
  if (blockSums != sumsOut) std::free(blockSums);
  return sum;
}

template <class Args, class Fn, Args (*kRange)(const Args&, size_t, size_t)>
struct RangeWork {
  Fn run;
  const Args* args;
  static double runRange(const void* work, size_t begin, size_t end) {
    const RangeWork* w = static_cast<const RangeWork*>(work);
    return w->run(kRange(*w->args, begin, end));
  }
};

}  // namespace

size_t ceBlockRows(size_t classes) { return classes >= kBlockTarget ? 1 : kBlockTarget / classes; }

double runBlocked(KernelFn run, const KernelArgs& args, unsigned threads, double* blockSums) {
  if (args.n == 0) return run(args);
  using Work = RangeWork<KernelArgs, KernelFn, elementRange>;
  const Work work{run, &args};
  return runBlocks(&Work::runRange, &work, args.n, sumBlockSize(args.classes), args.n, threads, blockSums);
}

double runCeBlocked(CeKernelFn run, const CeKernelArgs& args, unsigned threads, double* blockSums) {
  if (args.rows == 0) return run(args);
  using Work = RangeWork<CeKernelArgs, CeKernelFn, rowRange>;
  const Work work{run, &args};
  return runBlocks(&Work::runRange, &work, args.rows, ceBlockRows(args.classes), args.rows * args.classes, threads, blockSums);
}

}  // namespace fused_bce
