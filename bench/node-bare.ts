// Calibration target "bare": a bare node:http server answering the backend's fixed body itself
// (no proxying). Issue 2 calibrates its CPU target against it ("a bare Node server reaches about
// 2.2x nginx's CPU per request"); this measures that on the same machine in the same run.
//
// Usage: node bench/node-bare.ts PORT
import { createServer } from 'node:http';
import { BACKEND_BODY } from './lib/configs.ts';

const port = Number(process.argv[2]);
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(BACKEND_BODY) });
  res.end(BACKEND_BODY);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`node-bare ready on ${port}\n`));
const stop = (): void => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
