// The ClientHello reader behind TLS passthrough: real ClientHellos from node:tls, fed whole,
// byte by byte and re-framed over several records; malformed input is refused, never read out of
// bounds (mutations of a real ClientHello never throw).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { MAX_CLIENT_HELLO, parseClientHello } from '../../src/proxy/client-hello.ts';

/** The first bytes node:tls sends for `servername` (undefined: no SNI). */
async function captureHello(servername: string | undefined, extra: { maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<Buffer> {
  let resolveHello!: (b: Buffer) => void;
  const hello = new Promise<Buffer>((r) => (resolveHello = r));
  const chunks: Buffer[] = [];
  const server = createServer((s) => {
    s.on('data', (d) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      if (all.length >= 5 && all.length >= 5 + all.readUInt16BE(3)) {
        resolveHello(all);
        s.destroy();
      }
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const client = connect({ host: '127.0.0.1', port, ...(servername !== undefined ? { servername } : {}), rejectUnauthorized: false, ...extra });
  client.on('error', () => {});
  try {
    return await hello;
  } finally {
    client.destroy();
    server.close();
  }
}

/** The same handshake message re-framed into records of at most `size` bytes. */
function reframe(hello: Buffer, size: number): Buffer {
  const body = hello.subarray(5);
  const records: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const part = body.subarray(i, i + size);
    const head = Buffer.from([0x16, 0x03, 0x01, 0, 0]);
    head.writeUInt16BE(part.length, 3);
    records.push(head, part);
  }
  return Buffer.concat(records);
}

test('reads the SNI of a real ClientHello (TLS 1.3 and 1.2), lower-cased', async () => {
  assert.deepEqual(parseClientHello(await captureHello('Abc.Example.com')), { state: 'done', serverName: 'abc.example.com' });
  assert.deepEqual(parseClientHello(await captureHello('x.example.org', { maxVersion: 'TLSv1.2' })), { state: 'done', serverName: 'x.example.org' });
});

test('a ClientHello without SNI is complete with no server name', async () => {
  // node:tls sends no SNI for an IP address host and no servername option.
  assert.deepEqual(parseClientHello(await captureHello(undefined)), { state: 'done', serverName: undefined });
});

test('incomplete until the last byte arrives, then done: byte by byte and over several records', async () => {
  const hello = await captureHello('split.example.com');
  for (let n = 0; n < hello.length; n++) assert.equal(parseClientHello(hello.subarray(0, n)).state, 'incomplete', `at ${n} bytes`);
  assert.deepEqual(parseClientHello(hello), { state: 'done', serverName: 'split.example.com' });
  for (const size of [1, 7, 64, 200]) {
    const framed = reframe(hello, size);
    assert.deepEqual(parseClientHello(framed), { state: 'done', serverName: 'split.example.com' }, `records of ${size}`);
    assert.equal(parseClientHello(framed.subarray(0, framed.length - 1)).state, 'incomplete');
  }
});

test('refuses what is not a ClientHello', async () => {
  const hello = await captureHello('a.example.com');
  assert.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')).state, 'invalid');
  // A handshake record holding a ServerHello.
  const wrongType = Buffer.from(hello);
  wrongType[5] = 0x02;
  assert.equal(parseClientHello(wrongType).state, 'invalid');
  // An empty record and an oversized one.
  assert.equal(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00])).state, 'invalid');
  assert.equal(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x40, 0x01])).state, 'invalid');
  // A handshake length beyond the cap is refused before waiting for it.
  const huge = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x10, 0x00, 0x00]);
  assert.ok(MAX_CLIENT_HELLO < 0x100000);
  assert.equal(parseClientHello(huge).state, 'invalid');
  // A server_name that is not a hostname.
  const sni = hello.indexOf(Buffer.from('a.example.com'));
  const bad = Buffer.from(hello);
  bad.write('a/example', sni, 'latin1');
  assert.equal(parseClientHello(bad).state, 'invalid');
});

test('mutated ClientHellos never throw and never report a name that was not sent', async () => {
  const hello = await captureHello('m.example.com');
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 3000; i++) {
    const m = Buffer.from(hello);
    for (let k = 0, n = 1 + rnd(4); k < n; k++) m[rnd(m.length)] = rnd(256);
    const cut = rnd(4) === 0 ? m.subarray(0, rnd(m.length)) : m;
    const r = parseClientHello(cut);
    if (r.state === 'done' && r.serverName !== undefined) {
      assert.match(r.serverName, /^[a-z0-9-]+(\.[a-z0-9-]+)*$/);
      assert.ok(r.serverName.length <= 253);
    }
  }
});
