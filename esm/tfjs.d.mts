import * as cjs from '../dist/tfjs.js';
export * from '../dist/tfjs.js';
export default cjs;
