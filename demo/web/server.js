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

function demoFiles() {
  return {
    '/index.html': ['text/html; charset=utf-8', readFileSync(join(__dirname, 'index.html'))],
    '/bundle.js': ['text/javascript; charset=utf-8', bundle(join(__dirname, 'main.ts'))],
  };
}

module.exports = { bundle, startServer, demoFiles, root };

if (require.main === module) {
  startServer(demoFiles(), Number(process.env.PORT ?? 8080)).then(({ url }) => {
    console.log(`fused-bce demo: ${url} (Ctrl-C stops it)`);
  });
}
