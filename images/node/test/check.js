// Acceptance check for the node image: the built-in modules that need native libraries or
// Debian's shared JS dependencies work, and the process runs as the nonroot account.
// Usage: node check.js [TLS_PORT]. With a port, it makes an HTTPS request to a server on
// 127.0.0.1 whose certificate chains to a CA that the spec added to the image's bundle.
'use strict';
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const http = require('node:http');
const https = require('node:https');
const dns = require('node:dns');
const vm = require('node:vm');

const checks = [];
function check(name, cond) {
  checks.push(name);
  if (!cond) {
    console.error(`FAIL ${name}`);
    process.exit(1);
  }
}

async function main() {
  check('crypto.sha256', crypto.createHash('sha256').update('spartan').digest('hex') ===
    '70cbe512b00274e995e4c303de2333457cd810ab0ee3ddfb575b01973d8b929f');
  check('crypto.sha3', crypto.getHashes().includes('sha3-256'));
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const sig = crypto.sign(null, Buffer.from('x'), privateKey);
  check('crypto.ed25519', crypto.verify(null, Buffer.from('x'), publicKey, sig));
  const data = Buffer.from('spartan '.repeat(1000));
  check('zlib.gzip', zlib.gunzipSync(zlib.gzipSync(data)).equals(data));
  check('zlib.brotli', zlib.brotliDecompressSync(zlib.brotliCompressSync(data)).equals(data));
  // Full ICU: locale-aware formatting and time zones come from libicu's data.
  check('intl.number', new Intl.NumberFormat('de-DE').format(1234567.891) === '1.234.567,891');
  const ny = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: 'numeric', hour12: false })
    .format(new Date(Date.UTC(2026, 0, 15, 12)));
  check('intl.timezone', ny === '07');
  check('intl.collator', ['ä', 'z', 'a'].sort(new Intl.Collator('de').compare).join('') === 'aäz');
  check('string.normalize', 'e\u0301'.normalize('NFC') === '\u00e9');
  // Debian's libnode reads these built-in dependencies from /usr/share/nodejs at run time.
  // cjs-module-lexer finds a CommonJS module's named exports for an ESM import.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esm-'));
  fs.writeFileSync(path.join(dir, 'm.cjs'), 'exports.answer = 42;');
  fs.writeFileSync(path.join(dir, 'i.mjs'), "import { answer } from './m.cjs'; export default answer;");
  check('esm.cjs-named-exports', (await import(path.join(dir, 'i.mjs'))).default === 42);
  check('vm', vm.runInNewContext('a + 1', { a: 41 }) === 42);
  if (typeof path.matchesGlob === 'function') {
    check('minimatch', path.matchesGlob('/a/b/c.js', '/a/**/*.js'));
  }
  // undici: the global fetch against a local HTTP server.
  const srv = http.createServer((req, res) => res.end('pong ' + req.url));
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const body = await (await fetch(`http://127.0.0.1:${srv.address().port}/ping`)).text();
  srv.close();
  check('fetch', body === 'pong /ping');
  const addrs = await dns.promises.lookup('localhost', { all: true });
  check('dns.lookup', addrs.length > 0);
  check('tmpdir', (() => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'w-')), 'x');
    fs.writeFileSync(f, 'x');
    return fs.statSync(f).size === 1;
  })());
  check('user', process.getuid() === 65532 && os.userInfo().username === 'nonroot');

  if (process.argv[2]) {
    const port = Number(process.argv[2]);
    const got = await new Promise((resolve, reject) => {
      https.get({ host: '127.0.0.1', servername: 'localhost', port, path: '/' }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
    check('https.custom-ca', got.includes('spartan-tls-ok'));
  }
  console.log(`node ${process.version} uid ${process.getuid()} user ${os.userInfo().username}`);
  console.log(`process.getuid() === 65532: ${process.getuid() === 65532}`);
  console.log(`checks ok: ${checks.join(' ')}`);
}

main().catch((e) => {
  console.error('FAIL', e && e.stack ? e.stack : e);
  process.exit(1);
});
