import * as cjs from '../dist/index.js';
export * from '../dist/index.js';
export default cjs;
