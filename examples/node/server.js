'use strict';
// A tiny app: prints a greeting from its (local) dependency; with a port argument it also
// serves it over HTTP, to show the runtime image running a server as nonroot.
const http = require('node:http');
const { greet } = require('greet');

const msg = `${greet('from spartan/node')} on ${process.version}, uid ${process.getuid()}`;
console.log(msg);
const port = Number(process.argv[2]);
if (port) {
  http.createServer((req, res) => res.end(msg + '\n')).listen(port, () => console.log(`listening on ${port}`));
}
