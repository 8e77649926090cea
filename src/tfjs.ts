// fused-bce/tfjs: the losses as TensorFlow.js ops with their gradients, drop-in for tf.losses.
export { sigmoidCrossEntropy } from './tfjs/sigmoid-cross-entropy';
export type { SigmoidCrossEntropyOptions, TfjsReduction } from './tfjs/sigmoid-cross-entropy';
export { softmaxCrossEntropy } from './tfjs/softmax-cross-entropy';
export type { SoftmaxCrossEntropyOptions } from './tfjs/softmax-cross-entropy';
