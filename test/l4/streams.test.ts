// TLS, TCP and UDP listeners of the proxy with real sockets on loopback: TLS passthrough by SNI
// (the backend's own certificate reaches the client), termination with the listener's
// certificate, both on one socket, weighted TCP, UDP sessions with replies, listener
// isolation, and what a config change does to established connections.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Backend, GatewayListener, Listener, RoutingTable, StreamRoute, WeightedBackendRef } from '../../src/ir/index.ts';
import { createProxy, type Proxy } from '../../src/proxy/index.ts';
import { CertFactory, type Pem } from '../helpers/certs.ts';
import { freePort } from '../helpers/net.ts';

const certs = new CertFactory();
after(() => certs.close());

let version = 0;
function table(listeners: Listener[], backends: Backend[]): RoutingTable {
  return { version: `l4-${++version}`, listeners, backends: [...backends].sort((a, b) => a.id.localeCompare(b.id)) };
}
function backend(id: string, ports: number[], protocol: Backend['protocol'] = 'tcp'): Backend {
  return { id, protocol, endpoints: ports.map((port) => ({ address: '127.0.0.1', port })) };
}
function ref(backendId: string, weight = 1): WeightedBackendRef {
  return { kind: 'backend', backendId, weight, filters: [] };
}
function streamRoute(id: string, listenerId: string, hostname: string, backendRefs: WeightedBackendRef[]): StreamRoute {
  return { id, listenerId, hostname, backendRefs };
}
function socketListener(protocol: Listener['protocol'], gatewayListeners: GatewayListener[], streamRoutes: StreamRoute[], address = '127.0.0.1'): Listener {
  return { id: `port/${address}/0`, address, port: 0, protocol, gatewayListeners, virtualHosts: [], streamRoutes };
}

async function start(t: RoutingTable): Promise<{ proxy: Proxy; port: number }> {
  const proxy = createProxy({ limits: { drainTimeoutMs: 1000, headersTimeoutMs: 2000 } });
  const result = await proxy.apply(t);
  const first = result.listeners[0];
  if (first === undefined || !first.bound) throw new Error(`proxy failed to bind: ${JSON.stringify(result)}`);
  return { proxy, port: first.boundPort! };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** A TLS server that answers every line with `<name> <servername seen>`. */
async function tlsBackend(name: string, pem: Pem): Promise<{ port: number; close(): Promise<void> }> {
  const server = createTlsServer({ cert: pem.certPem, key: pem.keyPem }, (s) => {
    s.on('error', () => {});
    s.on('data', () => s.write(`${name} ${(s as TLSSocket & { servername?: string }).servername ?? '-'}\n`));
  });
  const port = await listen(server);
  return { port, close: () => new Promise((r) => server.close(() => r())) };
}

/** A plain TCP server: greets with its name, then echoes. */
async function tcpBackend(name: string): Promise<{ port: number; sockets: Set<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.write(`${name}\n`);
    s.pipe(s);
  });
  const port = await listen(server);
  return {
    port, sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

function readLine(s: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i === -1) return;
      cleanup();
      resolve(buf.slice(0, i));
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error(`closed before a line (got ${JSON.stringify(buf)})`));
    };
    const cleanup = (): void => {
      s.removeListener('data', onData);
      s.removeListener('close', onEnd);
      s.removeListener('error', onEnd);
    };
    s.on('data', onData);
    s.once('close', onEnd);
    s.once('error', onEnd);
  });
}

/** TLS client to the proxy; resolves with the socket once the handshake is done. */
function tlsClient(port: number, servername: string | undefined, ca?: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ...(servername !== undefined ? { servername } : {}), rejectUnauthorized: false, ...(ca ? { ca } : {}) }, () => resolve(s));
    s.once('error', reject);
    s.once('close', () => reject(new Error('closed during the handshake')));
  });
}

function tcpClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

function closed(s: Socket): Promise<void> {
  return new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));
}

test('TLS passthrough routes by SNI to the backend that owns the name, without terminating', async () => {
  const pemA = certs.selfSigned({ cn: 'a.example.com' });
  const pemB = certs.selfSigned({ cn: 'b.example.com', sans: ['b.example.com', '*.wild.example.com'] });
  const a = await tlsBackend('A', pemA);
  const b = await tlsBackend('B', pemB);
  const gl = 'listener/default/gw/tls';
  const { proxy, port } = await start(table([
    socketListener('TLS', [{ id: gl, hostname: '*', certificates: [], tlsMode: 'Passthrough' }], [
      streamRoute('tlsroute/default/a', gl, 'a.example.com', [ref('backend/default/a/443')]),
      streamRoute('tlsroute/default/b', gl, 'b.example.com', [ref('backend/default/b/443')]),
      streamRoute('tlsroute/default/wild', gl, '*.wild.example.com', [ref('backend/default/b/443')]),
    ]),
  ], [backend('backend/default/a/443', [a.port]), backend('backend/default/b/443', [b.port])]));
  try {
    for (const [sni, name, fingerprint] of [['a.example.com', 'A', pemA.fingerprint], ['b.example.com', 'B', pemB.fingerprint], ['x.y.wild.example.com', 'B', pemB.fingerprint]] as const) {
      const c = await tlsClient(port, sni);
      // The backend's certificate: the proxy never terminated.
      assert.equal(c.getPeerCertificate().fingerprint256, fingerprint);
      c.write('hi\n');
      assert.equal(await readLine(c), `${name} ${sni}`);
      c.destroy();
    }
    // No route for the name, and no SNI at all: the connection is closed without a handshake.
    await assert.rejects(tlsClient(port, 'c.example.com'));
    await assert.rejects(tlsClient(port, undefined));
    // Not TLS at all: closed.
    const raw = await tcpClient(port);
    raw.write('GET / HTTP/1.1\r\nHost: a.example.com\r\n\r\n');
    await closed(raw);
  } finally {
    await proxy.close();
    await a.close();
    await b.close();
  }
});

test('TLS terminate and passthrough listeners share one socket, separated by SNI (mixed mode)', async () => {
  const ca = certs.ca('test ca');
  const listenerCert = certs.leaf(ca, { cn: 'term.example.com' });
  const passPem = certs.selfSigned({ cn: 'pass.example.com' });
  const plain = await tcpBackend('plain');
  const pass = await tlsBackend('P', passPem);
  const term = 'listener/default/gw/term';
  const passId = 'listener/default/gw/pass';
  const { proxy, port } = await start(table([
    socketListener('TLS', [
      { id: passId, hostname: 'pass.example.com', certificates: [], tlsMode: 'Passthrough' },
      { id: term, hostname: 'term.example.com', certificates: [{ id: 'secret/default/term', ...listenerCert }], tlsMode: 'Terminate' },
    ], [
      streamRoute('tlsroute/default/pass', passId, 'pass.example.com', [ref('backend/default/pass/443')]),
      streamRoute('tlsroute/default/term', term, 'term.example.com', [ref('backend/default/plain/3000')]),
    ]),
  ], [backend('backend/default/pass/443', [pass.port]), backend('backend/default/plain/3000', [plain.port])]));
  try {
    // Terminated: the client verifies the listener's certificate; the backend gets plaintext.
    const t = await tlsClient(port, 'term.example.com', ca.certPem);
    assert.equal(t.authorized, true, String(t.authorizationError));
    assert.equal(t.getPeerCertificate().fingerprint256, listenerCert.fingerprint);
    assert.equal(await readLine(t), 'plain');
    t.write('ping\n');
    assert.equal(await readLine(t), 'ping');
    t.destroy();
    // Passthrough on the same port: the backend's certificate.
    const p = await tlsClient(port, 'pass.example.com');
    assert.equal(p.getPeerCertificate().fingerprint256, passPem.fingerprint);
    p.write('x\n');
    assert.equal(await readLine(p), 'P pass.example.com');
    p.destroy();
  } finally {
    await proxy.close();
    await plain.close();
    await pass.close();
  }
});

test('TLS listener isolation: a name a more specific listener owns never falls through to a wildcard listener', async () => {
  const pem = certs.selfSigned({ cn: 'x.example.com', sans: ['*.example.com'] });
  const b = await tlsBackend('W', pem);
  const wild = 'listener/default/gw/wild';
  const foo = 'listener/default/gw/foo';
  const { proxy, port } = await start(table([
    socketListener('TLS', [
      { id: foo, hostname: 'foo.example.com', certificates: [], tlsMode: 'Passthrough' },
      { id: wild, hostname: '*.example.com', certificates: [], tlsMode: 'Passthrough' },
    ], [streamRoute('tlsroute/default/wild', wild, '*.example.com', [ref('backend/default/w/443')])]),
  ], [backend('backend/default/w/443', [b.port])]));
  try {
    const ok = await tlsClient(port, 'bar.example.com');
    ok.write('x\n');
    assert.equal(await readLine(ok), 'W bar.example.com');
    ok.destroy();
    // foo.example.com selects listener "foo", which has no route: rejected.
    await assert.rejects(tlsClient(port, 'foo.example.com'));
  } finally {
    await proxy.close();
    await b.close();
  }
});

test('TCP listener splits connections by weight (3:1) and rejects an invalid share', async () => {
  const one = await tcpBackend('one');
  const two = await tcpBackend('two');
  const gl = 'listener/default/gw/tcp';
  const { proxy, port } = await start(table([
    socketListener('TCP', [{ id: gl, hostname: '*', certificates: [] }], [
      streamRoute('tcproute/default/split', gl, '*', [ref('backend/default/one/3000', 3), ref('backend/default/two/3000', 1)]),
    ]),
  ], [backend('backend/default/one/3000', [one.port]), backend('backend/default/two/3000', [two.port])]));
  try {
    const counts = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const c = await tcpClient(port);
      const name = await readLine(c);
      counts.set(name, (counts.get(name) ?? 0) + 1);
      c.destroy();
    }
    // Smooth weighted round-robin is exact over every window of sum(weights) picks.
    assert.deepEqual(Object.fromEntries(counts), { one: 30, two: 10 });

    // Half the weight on an unresolved backendRef: those connections are closed, the rest served.
    await proxy.apply(table([
      socketListener('TCP', [{ id: gl, hostname: '*', certificates: [] }], [
        streamRoute('tcproute/default/split', gl, '*', [ref('backend/default/one/3000', 1), { kind: 'invalid', weight: 1, status: 500, code: 'BACKEND_NOT_FOUND' }]),
      ]),
    ], [backend('backend/default/one/3000', [one.port])]));
    let served = 0, rejected = 0;
    for (let i = 0; i < 10; i++) {
      const c = await tcpClient(port);
      try {
        assert.equal(await readLine(c), 'one');
        served++;
      } catch {
        rejected++;
      }
      c.destroy();
    }
    assert.deepEqual({ served, rejected }, { served: 5, rejected: 5 });
  } finally {
    await proxy.close();
    await one.close();
    await two.close();
  }
});

test('config change: established TCP connections keep running while their route exists and close when it is removed', async () => {
  const one = await tcpBackend('one');
  const two = await tcpBackend('two');
  const a = 'listener/default/gw/a';
  const b = 'listener/default/gw/b';
  const tcp = (id: string, l: string, routes: StreamRoute[]): Listener => ({ ...socketListener('TCP', [{ id: l, hostname: '*', certificates: [] }], routes), id });
  const backends = [backend('backend/default/one/3000', [one.port]), backend('backend/default/two/3000', [two.port])];
  const proxy = createProxy({ limits: { drainTimeoutMs: 1000 } });
  try {
    const first = await proxy.apply(table([
      tcp('port/127.0.0.1/0', a, [streamRoute('tcproute/default/a', a, '*', [ref('backend/default/one/3000')])]),
      { ...tcp('port/127.0.0.2/0', b, [streamRoute('tcproute/default/b', b, '*', [ref('backend/default/two/3000')])]), address: '127.0.0.2' },
    ], backends));
    const [pa, pb] = first.listeners.map((l) => l.boundPort!);
    const ca = await tcpClient(pa!);
    assert.equal(await readLine(ca), 'one');
    const cb = await new Promise<Socket>((resolve, reject) => {
      const s = netConnect({ host: '127.0.0.2', port: pb! }, () => resolve(s));
      s.once('error', reject);
    });
    assert.equal(await readLine(cb), 'two');

    // Route a stays (now weighted to backend two for new connections); route b is removed.
    const second = await proxy.apply(table([
      tcp('port/127.0.0.1/0', a, [streamRoute('tcproute/default/a', a, '*', [ref('backend/default/two/3000')])]),
      { ...tcp('port/127.0.0.2/0', b, []), address: '127.0.0.2' },
    ], backends));
    assert.ok(second.listeners.every((l) => l.bound));
    await closed(cb);
    // The established connection on route a still talks to the backend it was given.
    ca.write('still here\n');
    assert.equal(await readLine(ca), 'still here');
    assert.ok(!ca.destroyed);
    // New connections follow the new table.
    const cn = await tcpClient(pa!);
    assert.equal(await readLine(cn), 'two');
    cn.destroy();
    ca.destroy();
  } finally {
    await proxy.close();
    await one.close();
    await two.close();
  }
});

test('UDP listener: two clients, each a session stuck to one backend, replies come back to the right client', async () => {
  const servers = await Promise.all(['u1', 'u2'].map(async (name) => {
    const s = createSocket('udp4');
    s.on('message', (msg, rinfo) => s.send(`${name}:${msg.toString()}`, rinfo.port, rinfo.address));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    return { name, socket: s, port: s.address().port };
  }));
  const gl = 'listener/default/gw/udp';
  const { proxy, port } = await start(table([
    socketListener('UDP', [{ id: gl, hostname: '*', certificates: [] }], [
      streamRoute('udproute/default/echo', gl, '*', [ref('backend/default/u1/53'), ref('backend/default/u2/53')]),
    ]),
  ], [backend('backend/default/u1/53', [servers[0]!.port], 'udp'), backend('backend/default/u2/53', [servers[1]!.port], 'udp')]));
  const clients = await Promise.all([0, 1].map(async () => {
    const c = createSocket('udp4');
    await new Promise<void>((r) => c.bind(0, '127.0.0.1', r));
    return c;
  }));
  const ask = (c: (typeof clients)[number], text: string): Promise<string> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no reply')), 2000);
    c.once('message', (m) => {
      clearTimeout(timer);
      resolve(m.toString());
    });
    c.send(text, port, '127.0.0.1');
  });
  try {
    const first = await Promise.all(clients.map((c, i) => ask(c, `hello${i}`)));
    const owner = first.map((r) => r.split(':')[0]);
    // Weighted 1:1 across the two sessions: one each.
    assert.deepEqual([...owner].sort(), ['u1', 'u2']);
    assert.deepEqual(first.map((r) => r.split(':')[1]), ['hello0', 'hello1']);
    for (let round = 0; round < 3; round++) {
      for (const [i, c] of clients.entries()) {
        assert.equal(await ask(c, `again${round}`), `${owner[i]}:again${round}`);
      }
    }
  } finally {
    for (const c of clients) c.close();
    await proxy.close();
    for (const s of servers) s.socket.close();
  }
});

test('UDP sessions end after the idle timeout: the next datagram is routed again', async () => {
  const seen: number[] = [];
  const server = createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    seen.push(rinfo.port);
    server.send(msg, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  const gl = 'listener/default/gw/udp';
  const proxy = createProxy({ limits: { udpSessionIdleTimeoutMs: 100 } });
  const result = await proxy.apply(table([
    socketListener('UDP', [{ id: gl, hostname: '*', certificates: [] }], [streamRoute('udproute/default/echo', gl, '*', [ref('backend/default/u/53')])]),
  ], [backend('backend/default/u/53', [server.address().port], 'udp')]));
  const port = result.listeners[0]!.boundPort!;
  const client = createSocket('udp4');
  const ask = (text: string): Promise<string> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no reply')), 2000);
    client.once('message', (m) => {
      clearTimeout(timer);
      resolve(m.toString());
    });
    client.send(text, port, '127.0.0.1');
  });
  try {
    assert.equal(await ask('a'), 'a');
    assert.equal(await ask('b'), 'b');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(await ask('c'), 'c');
    // Same session (same upstream source port) for a and b; a new one after the idle gap.
    assert.equal(seen[0], seen[1]);
    assert.notEqual(seen[2], seen[1]);
  } finally {
    client.close();
    await proxy.close();
    server.close();
  }
});

test('a UDP listener without an address serves IPv4 clients on every interface', async () => {
  const server = createSocket('udp4');
  server.on('message', (msg, rinfo) => server.send(`echo:${msg.toString()}`, rinfo.port, rinfo.address));
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  const gl = 'listener/default/gw/udp';
  const { proxy, port } = await start(table([
    socketListener('UDP', [{ id: gl, hostname: '*', certificates: [] }], [streamRoute('udproute/default/echo', gl, '*', [ref('backend/default/u/53')])], ''),
  ], [backend('backend/default/u/53', [server.address().port], 'udp')]));
  const client = createSocket('udp4');
  try {
    const reply = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply')), 2000);
      client.once('message', (m) => {
        clearTimeout(timer);
        resolve(m.toString());
      });
      client.send('x', port, '127.0.0.3');
    });
    assert.equal(reply, 'echo:x');
  } finally {
    client.close();
    await proxy.close();
    server.close();
  }
});

test('config change: a UDP session whose route was removed ends; one whose route stays keeps its backend', async () => {
  const servers = await Promise.all(['u1', 'u2'].map(async (name) => {
    const s = createSocket('udp4');
    s.on('message', (msg, rinfo) => s.send(`${name}:${msg.toString()}`, rinfo.port, rinfo.address));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    return s;
  }));
  const gl = 'listener/default/gw/udp';
  const backends = [backend('backend/default/u1/53', [servers[0]!.address().port], 'udp'), backend('backend/default/u2/53', [servers[1]!.address().port], 'udp')];
  const withRoute = (id: string, to: string): RoutingTable => table([
    socketListener('UDP', [{ id: gl, hostname: '*', certificates: [] }], [streamRoute(id, gl, '*', [ref(to)])]),
  ], backends);
  const { proxy, port } = await start(withRoute('udproute/default/a', 'backend/default/u1/53'));
  const client = createSocket('udp4');
  const ask = (text: string): Promise<string> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no reply')), 2000);
    client.once('message', (m) => {
      clearTimeout(timer);
      resolve(m.toString());
    });
    client.send(text, port, '127.0.0.1');
  });
  try {
    assert.equal(await ask('1'), 'u1:1');
    // Same route id, new backend for new sessions: this client's session stays on u1.
    await proxy.apply(withRoute('udproute/default/a', 'backend/default/u2/53'));
    assert.equal(await ask('2'), 'u1:2');
    // The route is replaced by another one: the session ends and the next datagram is routed anew.
    await proxy.apply(withRoute('udproute/default/b', 'backend/default/u2/53'));
    assert.equal(await ask('3'), 'u2:3');
  } finally {
    client.close();
    await proxy.close();
    for (const s of servers) s.close();
  }
});

test('TCP and UDP listeners on the same port number both serve', async () => {
  const tcpB = await tcpBackend('tcp-side');
  const udpB = createSocket('udp4');
  udpB.on('message', (msg, rinfo) => udpB.send(`udp-side:${msg.toString()}`, rinfo.port, rinfo.address));
  await new Promise<void>((r) => udpB.bind(0, '127.0.0.1', r));
  const port = await freePort();
  const t = 'listener/default/gw/dns-tcp';
  const u = 'listener/default/gw/dns-udp';
  const proxy = createProxy({});
  const client = createSocket('udp4');
  try {
    const result = await proxy.apply(table([
      { ...socketListener('TCP', [{ id: t, hostname: '*', certificates: [] }], [streamRoute('tcproute/default/dns', t, '*', [ref('backend/default/dns/53')])]), id: `port/127.0.0.1/${port}`, port },
      { ...socketListener('UDP', [{ id: u, hostname: '*', certificates: [] }], [streamRoute('udproute/default/dns', u, '*', [ref('backend/default/dns-udp/53')])]), id: `udp/127.0.0.1/${port}`, port },
    ], [backend('backend/default/dns/53', [tcpB.port]), backend('backend/default/dns-udp/53', [udpB.address().port], 'udp')]));
    assert.ok(result.listeners.every((l) => l.bound), JSON.stringify(result));
    const c = await tcpClient(port);
    assert.equal(await readLine(c), 'tcp-side');
    c.destroy();
    const reply = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply')), 2000);
      client.once('message', (m) => {
        clearTimeout(timer);
        resolve(m.toString());
      });
      client.send('q', port, '127.0.0.1');
    });
    assert.equal(reply, 'udp-side:q');
  } finally {
    client.close();
    await proxy.close();
    await tcpB.close();
    udpB.close();
  }
});

test('TCP half-close: the client ends its side, the backend answers after reading to the end', async () => {
  // The backend counts the bytes it was sent and answers only once the client has finished.
  const server = createNetServer({ allowHalfOpen: true }, (s) => {
    let n = 0;
    s.on('data', (d) => (n += d.length));
    s.on('end', () => s.end(`got ${n} bytes\n`));
    s.on('error', () => {});
  });
  const port = await listen(server);
  const gl = 'listener/default/gw/tcp';
  const { proxy, port: proxyPort } = await start(table([
    socketListener('TCP', [{ id: gl, hostname: '*', certificates: [] }], [streamRoute('tcproute/default/count', gl, '*', [ref('backend/default/count/1')])]),
  ], [backend('backend/default/count/1', [port])]));
  try {
    const c = netConnect({ host: '127.0.0.1', port: proxyPort, allowHalfOpen: true });
    const body = Buffer.alloc(256 * 1024, 7);
    c.end(body);
    const reply = await new Promise<string>((resolve, reject) => {
      let text = '';
      c.on('data', (d) => (text += d.toString()));
      c.on('end', () => resolve(text));
      c.on('error', reject);
    });
    assert.equal(reply, `got ${body.length} bytes\n`);
    c.destroy();
  } finally {
    await proxy.close();
    await new Promise((r) => server.close(() => r(undefined)));
  }
});

test('TLS listener: a client that never finishes its ClientHello is closed after the headers timeout', async () => {
  const gl = 'listener/default/gw/tls';
  const proxy = createProxy({ limits: { headersTimeoutMs: 300 } });
  const result = await proxy.apply(table([
    socketListener('TLS', [{ id: gl, hostname: '*', certificates: [], tlsMode: 'Passthrough' }], []),
  ], []));
  const port = result.listeners[0]!.boundPort!;
  try {
    const silent = await tcpClient(port);
    // A record header announcing more bytes than ever arrive.
    const partial = await tcpClient(port);
    partial.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    const started = performance.now();
    await Promise.all([closed(silent), closed(partial)]);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 200 && elapsed < 3000, `closed after ${elapsed} ms`);
  } finally {
    await proxy.close();
  }
});
