// ES module entry of fused-bce/tfjs: re-exports the CommonJS build (one tfjs-core instance, one backend state).
import cjs from '../dist/tfjs.js';

export const { sigmoidCrossEntropy, softmaxCrossEntropy } = cjs;
export default cjs;
