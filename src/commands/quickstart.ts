// `fluxgate quickstart` (`npm start`): two demo backends and examples/quickstart.yaml, then
// the curl commands that show it working.
import { fileURLToPath } from 'node:url';
import { startDemoBackend } from '../demo/backend.ts';
import { startServe } from './serve.ts';
import type { Serving } from './serve.ts';
import { createLogger } from '../observability/index.ts';

const CONFIG = fileURLToPath(new URL('../../examples/quickstart.yaml', import.meta.url));
// These match the EndpointSlices in examples/quickstart.yaml.
const BACKENDS = [{ name: 'stable', port: 9101 }, { name: 'canary', port: 9102 }] as const;
const GATEWAY = 'http://127.0.0.1:8080';

export async function runQuickstart(): Promise<Pick<Serving, 'close'>> {
  const logger = createLogger();
  const backends = await Promise.all(BACKENDS.map((b) => startDemoBackend(b.name, '127.0.0.1', b.port)));
  const serving = await startServe({ config: CONFIG, bindAddress: '127.0.0.1', adminAddress: '127.0.0.1:9901', watch: true, logger });
  process.stdout.write(`
FluxGate is serving ${CONFIG} on ${GATEWAY} (admin: ${serving.admin?.url ?? 'off'}).
Edit the file and the change is live within a second. Try:

  # canary split: about 9 in 10 answers come from "stable", 1 in 10 from "canary"
  for i in $(seq 1 20); do curl -s -o /dev/null -w '%header{x-backend}\\n' ${GATEWAY}/; done | sort | uniq -c

  # header filters: the backend sees x-demo-request, the client gets x-served-by
  curl -si ${GATEWAY}/headers | grep -iE '^x-served-by|"x-demo-request"'

  # redirect: /old/... answers 301 to /new/...
  curl -si ${GATEWAY}/old/page | grep -iE '^(HTTP|location)'

  # why a route did or did not attach, and the live routing table
  curl -s ${serving.admin?.url ?? ''}/debug/status
`);
  return {
    async close() {
      await serving.close();
      await Promise.all(backends.map((b) => b.close()));
    },
  };
}
