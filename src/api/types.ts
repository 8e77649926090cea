// The public option and result types of the BCE entry points.

/** How label smoothing maps a target y to y'. See README "Smoothing conventions". */
export type Smoothing = 'symmetric' | 'uniform';
/** 'mean' (the weighted sum divided by n, as PyTorch), 'sum', or 'none' (the element losses). */
export type Reduction = 'mean' | 'sum' | 'none';

/** Targets: soft targets as float32, or hard 0/1 labels as bytes (a quarter of the memory traffic). */
export type Targets = Float32Array | Uint8Array;

/** Class indices for softmax cross-entropy, one per row. */
export type ClassIndices = Int32Array | Uint16Array | Uint8Array;
/** Softmax cross-entropy targets: class indices (one per row) or class probabilities (a Float32Array, one per logit). */
export type ClassTargets = ClassIndices | Float32Array;

/** The options of softmax cross-entropy (PyTorch's F.cross_entropy), shared by the functions and CrossEntropyLoss. */
export interface CrossEntropyOptions {
  /** C, the number of classes: logits is `[rows, C]`, row-major (required). */
  classes: number;
  /** eps in [0, 1] (default 0): the target becomes (1 - eps) onehot + eps / C, as PyTorch's label_smoothing. */
  labelSmoothing?: number;
  /** One weight per class (length C), PyTorch's `weight`. */
  weight?: Float32Array;
  /** The class index of rows that count for nothing (loss and gradient 0); default -100, as PyTorch. */
  ignoreIndex?: number;
  /**
   * 'mean' (default; PyTorch: the sum divided by the sum of weight[target] over the rows not ignored, or by the rows
   * for probability targets; NaN when nothing counts), 'sum', or 'none' (one loss per row).
   */
  reduction?: Reduction;
  /** Threads for the native backend, as for BCE: rows are split in fixed blocks, the same bits for any count. */
  threads?: number | 'auto';
}

export interface CrossEntropyForwardOptions extends CrossEntropyOptions {
  /** Destination for the per-row losses (reduction 'none'), length rows. */
  lossOut?: Float32Array;
}

export interface CrossEntropyBackwardOptions extends CrossEntropyOptions {
  /** Upstream gradient: a number for 'mean'/'sum' (default 1), a Float32Array of length rows for 'none'. */
  gradOutput?: number | Float32Array;
  /** Destination for d(loss)/d(logits), length n. May be `logits` itself (in place). */
  gradOut?: Float32Array;
}

export interface CrossEntropyFusedOptions extends CrossEntropyBackwardOptions {
  /** Destination for the per-row losses (reduction 'none'), length rows. */
  lossOut?: Float32Array;
}

/** Options shared by every loss entry point and by the BCEWithLogitsLoss constructor. */
export interface LossOptions {
  /** Label smoothing rate a (default 0). symmetric: a <= 0.5; uniform: a <= 1; negative is allowed. */
  labelSmoothing?: number;
  /** 'symmetric' (default): y' = y(1 - 2a) + a. 'uniform' (Keras/tfjs): y' = y(1 - a) + a/2. */
  smoothing?: Smoothing;
  /** PyTorch pos_weight: one weight per class (length C), applied to the positive term. */
  posWeight?: Float32Array;
  /** PyTorch weight: per element (length n) or per class (length C). A weight of 0 masks the element. */
  weight?: Float32Array;
  /** 'mean' (default; weighted sum / n, as PyTorch), 'sum' or 'none'. */
  reduction?: Reduction;
  /**
   * Threads for the native backend: an integer >= 1, or 'auto' (default: one below 256K elements, then up to
   * one per 128K elements and CPU). A persistent pool serves them; more than `parallelism().maxThreads` run on
   * that many. The result is the same bits for every thread count. The js backend runs on one thread.
   */
  threads?: number | 'auto';
  /**
   * The focal loss (Lin et al. 2017, torchvision's sigmoid_focal_loss) on the smoothed targets: each element's
   * BCE times (1 - p_t)^gamma, and by alpha_t = alpha t + (1 - alpha)(1 - t) when alpha is given. Needs
   * labelSmoothing >= 0 (targets in [0, 1]). `{ gamma: 0 }` is plain BCE, the same bits. docs/focal.md.
   */
  focal?: FocalOptions;
}

/** The focal term of the focal loss (docs/focal.md). */
export interface FocalOptions {
  /** The focusing exponent: any finite number >= 0 (2 is common; 0 with no alpha is plain BCE). */
  gamma: number;
  /** The weight of the positive targets, alpha_t = alpha t + (1 - alpha)(1 - t), in [0, 1]; omitted: no alpha weighting. */
  alpha?: number;
}

/** The keys of LossOptions: the options every entry point and the BCEWithLogitsLoss constructor take. */
export const LOSS_OPTION_KEYS: readonly (keyof LossOptions)[] = ['labelSmoothing', 'smoothing', 'posWeight', 'weight', 'reduction', 'threads', 'focal'];

export interface ForwardOptions extends LossOptions {
  /** Destination for per-element losses (reduction 'none'), length n. */
  lossOut?: Float32Array;
}

export interface BackwardOptions extends LossOptions {
  /** Upstream gradient: a number for 'mean'/'sum' (default 1), a Float32Array of length n for 'none'. */
  gradOutput?: number | Float32Array;
  /** Destination for d(loss)/d(logits), length n. May be `logits` itself (in place). */
  gradOut?: Float32Array;
}

export interface FusedOptions extends BackwardOptions {
  /** Destination for per-element losses (reduction 'none'), length n. */
  lossOut?: Float32Array;
}

/** What the fused entry points return: the loss and the gradient, from one pass. */
export interface FusedResult<L extends number | Float32Array = number | Float32Array> {
  /** The mean or sum (a number) or, for reduction 'none', the element losses. */
  loss: L;
  /** d(loss)/d(logits), times the upstream gradient: options.gradOut if given, else a new array. */
  grad: Float32Array;
}

/** A backend: what computes the passes. */
export interface BackendInfo {
  /** 'native' (the Node-API addon), 'wasm' (the WebAssembly module) or 'js' (pure TypeScript). */
  readonly name: 'js' | 'native' | 'wasm';
  /** The instruction set: 'avx512', 'avx2', 'sse2', 'neon' or 'scalar' for native, 'simd128' for wasm, null for js. */
  readonly isa: string | null;
}

/** What the running backend can do in parallel (see `threads`). */
export interface ParallelInfo {
  /**
   * The most threads a call runs on: for the native backend one per CPU this process may use (its affinity
   * mask and cgroup CPU quota); 1 for js. A larger `threads` runs on this many, with the same bits.
   */
  readonly maxThreads: number;
}
