/**
 * gRPC to a backend over TLS (BackendTLSPolicy on a GRPCRoute backend): HTTP/2 with ALPN h2 to a
 * @grpc/grpc-js TLS server, the certificate verified against the policy's CA and hostname; a
 * backend whose certificate does not verify is never sent the call.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../../src/ir/index.ts';
import type { Proxy } from '../../src/proxy/index.ts';
import { listener, match, ref, route, startProxy, table, vhost } from '../proxy/helpers.ts';
import { echoClient, echoService, grpc, readAll, SERVICE, unary, type EchoClient } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fluxgate-grpc-tls-'));
let server: grpc.Server;
let proxy: Proxy;
let client: EchoClient;
let seen = 0;

function selfSigned(name: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const crt = join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`], { stdio: 'ignore' });
  return { cert: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8') };
}

before(async () => {
  const backendCert = selfSigned('grpc-backend.example');
  const otherCa = selfSigned('other.example');
  server = new grpc.Server();
  server.addService(echoService, {
    Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      seen++;
      const md = new grpc.Metadata();
      md.set('x-tls-backend', 'yes');
      cb(null, call.request, md);
    },
    ServerStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      seen++;
      for (let i = 0; i < 5; i++) call.write(Buffer.from(`m${i}`));
      call.end();
    },
    ClientStream: (_call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from('')),
    Bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => call.end(),
  });
  const creds = grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(backendCert.key), cert_chain: Buffer.from(backendCert.cert) }]);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
  const tlsBackend = (id: string, caPem: string): Backend => ({
    id, protocol: 'h2c', endpoints: [{ address: '127.0.0.1', port }],
    tls: { policyId: 'backendtlspolicy/default/grpc', serverName: 'grpc-backend.example', caPem, subjectAltNames: [] },
  });
  const t = table(
    [listener([vhost('*', [
      route('good', match(`/${SERVICE}/`), [ref('backend/good')]),
      route('bad', match('/bad.Service/'), [ref('backend/bad')]),
    ])])],
    [tlsBackend('backend/good', backendCert.cert), tlsBackend('backend/bad', otherCa.cert)],
  );
  let port2: number;
  ({ proxy, port: port2 } = await startProxy(t));
  client = echoClient(port2);
});

after(async () => {
  client?.close();
  await proxy?.close();
  await new Promise<void>((r) => server?.tryShutdown(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

test('unary and server-streaming calls reach a TLS backend over HTTP/2 (ALPN h2), trailers included', async () => {
  const r = await unary(client, `/${SERVICE}/Unary`, Buffer.from('over tls'));
  assert.equal(r.status.code, grpc.status.OK, r.status.details);
  assert.equal(r.value?.toString(), 'over tls');
  assert.deepEqual(r.status.metadata.get('x-tls-backend'), ['yes']);
  const { messages, status } = await readAll(client.ServerStream(Buffer.from('x'), new grpc.Metadata()));
  assert.equal(status.code, grpc.status.OK);
  assert.deepEqual(messages.map(String), ['m0', 'm1', 'm2', 'm3', 'm4']);
});

test('a backend certificate the policy CA does not verify: UNAVAILABLE, the call never reaches it', async () => {
  const before = seen;
  const r = await unary(client, '/bad.Service/Unary', Buffer.from('x'));
  assert.equal(r.status.code, grpc.status.UNAVAILABLE, r.status.details);
  assert.equal(seen, before);
});
