// What the process kubelet makes of pod specs, without a cluster: which program plays an image,
// how the coredns Deployment of the conformance base manifests (read from the Go module cache)
// becomes a command line that reads the materialised ConfigMap, and when a container counts as
// ready.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CoreV1Api, V1ConfigMap, V1Container, V1Pod } from '@kubernetes/client-node';
import {
  buildEnv, containerArgs, corednsConfPath, corefilePorts, materializeVolumes, MountMap, PodReader, programKinds, readinessChecks, resolveProgram, supportedImagesHint,
} from './pod-spec.ts';
import { corednsManifests, pinnedVersion } from './upstream.ts';

const programs = { echoBasic: '/opt/bin/echo-basic', coredns: '/opt/bin/coredns' };

test('resolveProgram: echo-basic and coredns images, nothing else', () => {
  assert.deepEqual(resolveProgram('registry.k8s.io/gateway-api/echo-basic:v1.5.1', programs), { kind: 'echo-basic', path: '/opt/bin/echo-basic' });
  for (const image of [
    'registry.k8s.io/coredns/coredns:v1.12.2',
    'registry.k8s.io/coredns/coredns@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    'registry.k8s.io/coredns/coredns:v1.12.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    'coredns/coredns',
    'localhost:5000/coredns/coredns:1.12.2',
  ]) {
    assert.deepEqual(resolveProgram(image, programs), { kind: 'coredns', path: '/opt/bin/coredns' }, image);
  }
  // A registry port is not a tag; other images named after coredns are not coredns.
  assert.equal(resolveProgram('localhost:5000/coredns-exporter:1', programs), undefined);
  assert.equal(resolveProgram('nginx:1.27', programs), undefined);
  // Without a coredns binary the image is not supported, and the hint says what is.
  assert.equal(resolveProgram('registry.k8s.io/coredns/coredns:v1.12.2', { echoBasic: '/opt/bin/echo-basic' }), undefined);
  assert.doesNotMatch(supportedImagesHint({ echoBasic: 'x' }), /coredns/);
  assert.match(supportedImagesHint(programs), /coredns\/coredns/);
  assert.deepEqual(programKinds({ echoBasic: 'x' }), ['echo-basic']);
  assert.deepEqual(programKinds(programs), ['echo-basic', 'coredns']);
});

test('containerArgs: $(VAR) expansion, then paths under mounts rewritten to the host', () => {
  const mounts = new MountMap();
  mounts.add('/root', '/state/pods/u1/volumes/conf');
  mounts.add('/etc/config/', '/state/pods/u1/volumes/cfg');
  const c: V1Container = {
    name: 'c',
    args: ['-conf', '/root/Corefile', '--config=/etc/config/app.yaml', '-p', '$(PORT)', '/rootless', '$$(PORT)', '/root'],
  };
  assert.deepEqual(containerArgs(c, { PORT: '5353' }, mounts), [
    '-conf', '/state/pods/u1/volumes/conf/Corefile',
    '--config=/state/pods/u1/volumes/cfg/app.yaml',
    '-p', '5353',
    '/rootless', // a sibling of the mount path, not inside it
    '$(PORT)',
    '/state/pods/u1/volumes/conf',
  ]);
  assert.deepEqual(containerArgs({ name: 'c' }, {}, mounts), []);
});

test('corednsConfPath: the Go flag forms', () => {
  assert.equal(corednsConfPath(['-conf', '/a/Corefile']), '/a/Corefile');
  assert.equal(corednsConfPath(['--conf=/b']), '/b');
  assert.equal(corednsConfPath(['-conf', '/a', '-conf', '/c']), '/c');
  assert.equal(corednsConfPath(['-config', '/a']), undefined);
  assert.equal(corednsConfPath([]), undefined);
});

test('corefilePorts: plain DNS server blocks only, default port for blocks without one', () => {
  assert.deepEqual(corefilePorts('.:53 {\n  forward . 8.8.8.8\n}\nfoo.bar.com:53 {\n  whoami\n}\n'), [53]);
  const multi = [
    '# a comment {',
    '(common) {',
    '  log',
    '}',
    'import other.conf',
    'example.org example.net:5300 {',
    '  import common',
    '  file db.example {',
    '    reload 10s',
    '  }',
    '}',
    'dns://.:1053 {',
    '  whoami',
    '}',
    'tls://.:853 https://.:443 grpc://.:9553 {',
    '  whoami',
    '}',
  ].join('\n');
  assert.deepEqual(corefilePorts(multi, 5353), [5353, 5300, 1053]);
  assert.deepEqual(corefilePorts(''), [53], 'no Corefile: the default port');
});

test('readinessChecks: declared ports first, then each program\'s defaults', () => {
  const corefile = '.:53 {\n  forward . 8.8.8.8\n}\nfoo.bar.com:5300 {\n  whoami\n}\n';
  assert.deepEqual(readinessChecks({ name: 'dns' }, {}, 'coredns', corefile), [
    { protocol: 'TCP', port: 53 }, { protocol: 'DNS', port: 53 },
    { protocol: 'TCP', port: 5300 }, { protocol: 'DNS', port: 5300 },
  ]);
  assert.deepEqual(readinessChecks({ name: 'dns', args: ['-dns.port', '1053'] }, {}, 'coredns', undefined), [
    { protocol: 'TCP', port: 1053 }, { protocol: 'DNS', port: 1053 },
  ]);
  assert.deepEqual(
    readinessChecks({ name: 'dns', ports: [{ containerPort: 53, protocol: 'UDP' }, { containerPort: 9153 }] }, {}, 'coredns', corefile),
    [{ protocol: 'TCP', port: 9153 }, { protocol: 'DNS', port: 53 }],
  );
  // echo-basic keeps its defaults: HTTP 3000, the TCP echo port, nothing for a UDP echo server.
  assert.deepEqual(readinessChecks({ name: 'e' }, {}, 'echo-basic'), [{ protocol: 'TCP', port: 3000 }]);
  assert.deepEqual(readinessChecks({ name: 'e' }, { TCP_ECHO_SERVER: '1', TCP_PORT: '3001' }, 'echo-basic'), [{ protocol: 'TCP', port: 3001 }]);
  assert.deepEqual(readinessChecks({ name: 'e' }, { UDP_ECHO_SERVER: '1' }, 'echo-basic'), []);
  // A declared UDP port of echo-basic is no DNS server: not probed as one.
  assert.deepEqual(readinessChecks({ name: 'e', ports: [{ containerPort: 3000, protocol: 'UDP' }] }, {}, 'echo-basic'), [{ protocol: 'TCP', port: 3000 }]);
});

test('the conformance coredns Deployment: pinned image tag, a build with its plugins, and a command line that reads its ConfigMap', async (t) => {
  let manifests: Awaited<ReturnType<typeof corednsManifests>>;
  try {
    manifests = await corednsManifests();
  } catch (err) {
    t.skip(`the conformance module is not reachable through Go: ${(err as Error).message}`);
    return;
  }
  const { deployment, configMap } = manifests;
  const template = (deployment as unknown as { spec: { template: { metadata: V1Pod['metadata']; spec: NonNullable<V1Pod['spec']> } } }).spec.template;
  const container = template.spec.containers[0] as V1Container;

  // versions.sh builds the coredns the manifests name.
  const tag = /:([^:/@]+)(?:@.*)?$/.exec(container.image ?? '')?.[1];
  assert.equal(tag, await pinnedVersion('COREDNS_VERSION'), 'COREDNS_VERSION in versions.sh is the image tag of the base manifests');
  // Every directive of the Corefile is a plugin the build links in (else coredns exits at start).
  const corefile = (configMap as unknown as V1ConfigMap).data?.['Corefile'] ?? '';
  const plugins = (await pinnedVersion('COREDNS_PLUGINS')).split(/\s+/);
  const directives = [...corefile.matchAll(/^\s+([a-z0-9_]+)/gm)].map((m) => m[1]);
  assert.ok(directives.length > 0);
  for (const d of directives) assert.ok(plugins.includes(d ?? ''), `Corefile directive ${d} is in COREDNS_PLUGINS (${plugins.join(' ')})`);

  // The kubelet's path from pod spec to command line, with the ConfigMap served by a fake API.
  const dir = await mkdtemp(join(tmpdir(), 'fluxgate-podspec-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const api = {
    readNamespacedConfigMap: ({ name }: { name: string }): Promise<V1ConfigMap> =>
      name === 'coredns' ? Promise.resolve(configMap as unknown as V1ConfigMap) : Promise.reject(Object.assign(new Error('not found'), { code: 404 })),
  } as unknown as CoreV1Api;
  const reader = new PodReader(api);
  const pod: V1Pod = { metadata: { ...template.metadata, name: 'coredns-1', namespace: 'gateway-conformance-infra', uid: 'u1' }, spec: template.spec };
  const volumes = await materializeVolumes(pod, dir, reader);
  const mounts = new MountMap();
  for (const m of container.volumeMounts ?? []) mounts.add(m.mountPath, volumes.get(m.name) ?? '');
  const env = await buildEnv(pod, container, reader, mounts);
  const args = containerArgs(container, env, mounts);

  assert.deepEqual(args, ['-conf', join(dir, 'volumes', 'conf', 'Corefile')]);
  assert.equal(await readFile(args[1] ?? '', 'utf8'), corefile, 'the -conf path holds the ConfigMap\'s Corefile');
  assert.equal(resolveProgram(container.image ?? '', programs)?.kind, 'coredns');
  assert.deepEqual(readinessChecks(container, env, 'coredns', corefile), [{ protocol: 'TCP', port: 53 }, { protocol: 'DNS', port: 53 }]);
});
