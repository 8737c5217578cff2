// Stub of the site's build for the migrate e2e: writes dist/ as a bundler would.
const fs = require("fs");
fs.mkdirSync("dist", { recursive: true });
fs.writeFileSync("dist/index.html", "<h1>hello from digitalink</h1>\n");
