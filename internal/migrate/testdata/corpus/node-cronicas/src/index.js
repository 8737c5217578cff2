// Stub of the application for the migrate e2e: answers / and /health.
const http = require("http");
const port = Number(process.env.PORT || 3000);
http.createServer((req, res) => {
  res.end(req.url === "/health" ? "ok" : `hello from cronicas on Node ${process.version} as uid ${process.getuid()}`);
}).listen(port, "0.0.0.0");
