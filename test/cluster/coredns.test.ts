// CoreDNS as the conformance suite's UDPRoute backend: the coredns Deployment and ConfigMap of the
// upstream base manifests (read from the Go module cache) served by the test cluster.
//
// 1. Without a cluster: the cached coredns binary (build-binaries.sh) runs the ConfigMap's
//    Corefile in a pod network namespace made by the kubelet's own PodNetwork code on a private
//    bridge; the kubelet's readiness probes pass only once it serves, whoami answers over UDP,
//    and the host's bridge forwards nothing (the Corefile's `forward . 8.8.8.8` stays inside).
//    Needs root and the binary; skips otherwise.
// 2. On the test cluster (npm run cluster:up): the Deployment becomes Ready under the process
//    kubelet, its Service gets a ready endpoint, and the pod answers the whoami query the
//    UDPRoute test sends. Skips when no cluster answers, or when the running kubelet does not
//    play coredns (started before it could: restart the cluster).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { clusterReachable, eventually, kubectl } from '../helpers/cluster.ts';
import { queryUdp, TYPE } from '../helpers/dns.ts';
import { PodNetwork } from './pod-network.ts';
import { canConnect, dnsAnswers } from './probes.ts';
import { corednsManifests, type ManifestObject } from './upstream.ts';

const exec = promisify(execFile);
// The name the UDPRoute conformance test asks for: the Corefile's whoami zone.
const QUERY = 'foo.bar.com.';

/** The coredns binary build-binaries.sh caches (the path lib.sh computes for up.sh). */
async function corednsBinary(): Promise<string> {
  const { stdout } = await exec('bash', ['-c', 'source "$1/lib.sh" && printf %s "$coredns_bin"', 'lib', import.meta.dirname]);
  return stdout;
}

/** Checks what whoami answered: authoritative, no error, the asker's address and port. */
function assertWhoami(message: Awaited<ReturnType<typeof queryUdp>>['message'], clientIp: string, clientPort: number): void {
  assert.equal(message.rcode, 0, 'NOERROR');
  assert.ok(message.authoritative, 'whoami answers authoritatively');
  assert.deepEqual(message.questions, [{ name: QUERY, type: TYPE.A, class: 1 }]);
  // whoami answers in the additional section: the asker's address and, as SRV, its UDP port.
  const a = message.additional.find((r) => r.type === TYPE.A);
  const srv = message.additional.find((r) => r.type === TYPE.SRV);
  assert.deepEqual(a && { name: a.name, data: a.data }, { name: QUERY, data: clientIp }, 'the A record names the asker\'s address');
  assert.equal(srv?.name, `_udp.${QUERY}`, 'the SRV record says the query came over UDP');
  assert.equal((srv?.data as { port: number }).port, clientPort, 'the SRV record carries the asker\'s port');
}

test('coredns with the conformance Corefile in a pod network namespace: ready, answers whoami over UDP, forwards nothing off the host', { timeout: 120_000 }, async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root (network namespaces)');
    return;
  }
  const bin = await corednsBinary();
  if (!existsSync(bin)) {
    t.skip(`no coredns binary at ${bin} (bash test/cluster/build-binaries.sh builds it)`);
    return;
  }
  const { configMap } = await corednsManifests();
  const corefile = (configMap as ManifestObject & { data: Record<string, string> }).data['Corefile'] ?? '';

  // A private bridge and pod network, made by the kubelet's code, on a /16 no route uses yet.
  const id = randomBytes(2).toString('hex');
  const cidr = pickFreeCidr(await exec('ip', ['-4', 'route', 'show']).then((r) => r.stdout));
  if (!cidr) {
    t.skip('no free 10.x.0.0/16 for a private pod network');
    return;
  }
  const network = new PodNetwork({ bridge: `fgt-br${id}`, bridgeIp: `${cidr}.0.1`, podCidr: `${cidr}.0.0/16`, netnsPrefix: `fgt-${id}-` });
  const dir = await mkdtemp(join(tmpdir(), 'fluxgate-coredns-'));
  t.after(async () => {
    await network.delete('coredns'); // kills what runs inside
    await exec('ip', ['link', 'delete', `fgt-br${id}`]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  await network.ensureBridge();
  const { netns, ip } = await network.create('coredns');

  // The bridge forwards nothing: a pod's packet for 8.8.8.8 has no route on the host. Asked of
  // the routing table only: no packet is sent.
  const forwarded = await exec('ip', ['-4', 'route', 'get', '8.8.8.8', 'from', ip, 'iif', `fgt-br${id}`]).then(
    (r) => r.stdout,
    (err: Error & { stderr?: string }) => `refused: ${err.stderr ?? err.message}`,
  );
  assert.match(forwarded, /^refused: /, `the host must not route pod traffic beyond the bridge, got: ${forwarded}`);

  // Not ready while nothing listens: the probes are not trivially true.
  assert.equal(await dnsAnswers(ip, 53), false);
  assert.equal(await canConnect(ip, 53), false);

  await writeFile(join(dir, 'Corefile'), corefile);
  const proc = spawn('ip', ['netns', 'exec', netns, bin, '-conf', join(dir, 'Corefile')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  t.after(() => proc.kill('SIGKILL'));

  await eventually('coredns to pass the kubelet\'s readiness probes', 30_000, async () => {
    if (proc.exitCode !== null) throw new Error(`coredns exited (${proc.exitCode}): ${output}`);
    return (await canConnect(ip, 53)) && (await dnsAnswers(ip, 53)) ? true : undefined;
  }, 200);

  const { message, localPort } = await queryUdp(ip, 53, QUERY, TYPE.A);
  // The host reaches the pod through the bridge: whoami sees the bridge address.
  assertWhoami(message, `${cidr}.0.1`, localPort);

  // node:dns gets the same answer and, finding no answer records, says ENODATA: a NOERROR reply,
  // not a refusal, a timeout or SERVFAIL.
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([ip]);
  await assert.rejects(resolver.resolve4(QUERY), { code: 'ENODATA' });

  assert.match(output, /CoreDNS-1\.\d+\.\d+/, 'coredns printed its banner');
});

/** A 10.x prefix whose /16 no IPv4 route of the host touches. */
function pickFreeCidr(routes: string): string | undefined {
  for (const x of [213, 214, 215, 216, 217]) {
    if (!routes.includes(`10.${x}.`)) return `10.${x}`;
  }
  return undefined;
}

test('test cluster runs the conformance coredns Deployment: Ready, a ready endpoint, whoami over UDP', { timeout: 240_000 }, async (t) => {
  if (!(await clusterReachable())) {
    t.skip('no test cluster reachable at .cluster/kubeconfig (start one with npm run cluster:up)');
    return;
  }
  const ns = `fluxgate-coredns-${randomBytes(3).toString('hex')}`;
  t.after(() => kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']).catch(() => undefined));

  const { deployment, configMap, service } = await corednsManifests();
  const inNs = (o: object & { metadata: object }): object => ({ ...o, metadata: { ...o.metadata, namespace: ns } });
  const list = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, inNs(configMap), inNs(deployment), inNs(service)] };
  await kubectl(['apply', '-f', '-'], JSON.stringify(list));

  interface Pod {
    metadata: { name: string };
    status?: { podIP?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { ready: boolean; state?: { waiting?: { reason?: string; message?: string } } }[] };
  }
  let unsupported = '';
  const pod = await eventually('the coredns pod to be Ready', 90_000, async () => {
    const pods = JSON.parse(await kubectl(['get', 'pods', '-n', ns, '-l', 'app=udp', '-o', 'json'])) as { items: Pod[] };
    const p = pods.items[0];
    const waiting = p?.status?.containerStatuses?.[0]?.state?.waiting;
    if (waiting?.reason === 'ImageNotSupported') {
      unsupported = waiting.message ?? '';
      return p;
    }
    return p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
  });
  if (unsupported) {
    t.skip(`the running process kubelet does not play coredns (restart the cluster: npm run cluster:down && npm run cluster:up): ${unsupported}`);
    return;
  }
  const ip = pod.status?.podIP ?? '';
  assert.match(ip, /^10\.244\./, 'the pod IP comes from the pod network');

  // The Service's EndpointSlice lists the pod as ready on UDP 53: what a UDPRoute backendRef resolves to.
  await eventually('an EndpointSlice with the coredns pod ready', 60_000, async () => {
    const slices = JSON.parse(await kubectl(['get', 'endpointslices', '-n', ns, '-l', 'kubernetes.io/service-name=coredns', '-o', 'json'])) as {
      items: { ports?: { port?: number; protocol?: string }[]; endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[];
    };
    return slices.items.some((s) => s.ports?.some((p) => p.port === 53 && p.protocol === 'UDP') && s.endpoints?.some((e) => e.conditions?.ready && e.addresses.includes(ip)))
      ? true
      : undefined;
  }, 500);

  const { message, localPort } = await queryUdp(ip, 53, QUERY, TYPE.A);
  assertWhoami(message, '10.244.0.1', localPort);
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([ip]);
  await assert.rejects(resolver.resolve4(QUERY), { code: 'ENODATA' });
});
