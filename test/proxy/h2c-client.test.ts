/** The h2c upstream client (src/proxy/h2c-client.ts) against node:http2 servers on loopback. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import { connect as netConnect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { H2cPool } from '../../src/proxy/h2c-client.ts';
import type { UpstreamControl, UpstreamHandler, UpstreamRequest } from '../../src/proxy/upstream.ts';

const servers: Http2Server[] = [];
after(() => servers.forEach((s) => s.close()));

async function server(onStream: (s: ServerHttp2Stream) => void): Promise<number> {
  const s = createServer();
  s.on('stream', (st) => {
    st.on('error', () => {});
    onStream(st);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

function pool(port: number): H2cPool {
  return new H2cPool('127.0.0.1', port, { connectTimeoutMs: 2000, pingTimeoutMs: 2000, idleTimeoutMs: 10_000, maxHeaderBytes: 65536 });
}

function request(target = '/', method = 'GET'): UpstreamRequest {
  return { method, target, body: null, bodyLength: -1, headerLines: () => '', headerObject: () => ({ host: 'example.com', te: 'trailers', connection: 'keep-alive' }) };
}

interface Outcome {
  status?: number;
  headers?: string[];
  bytes: number;
  trailers?: string[] | null;
  error?: Error & { code?: string };
  ctl?: UpstreamControl;
}

/** A handler that records everything; `pauseFirst` pauses after the first chunk for a while. */
function recorder(pauseMs = 0): { handler: UpstreamHandler; done: Promise<Outcome> } {
  const out: Outcome = { bytes: 0 };
  let resolve!: (o: Outcome) => void;
  const done = new Promise<Outcome>((r) => (resolve = r));
  let paused = false;
  const handler: UpstreamHandler = {
    onRequestStart: (ctl) => (out.ctl = ctl),
    onResponseStart: (_c, status, headers) => {
      out.status = status;
      out.headers = [...headers];
    },
    onResponseData: (ctl, chunk) => {
      out.bytes += chunk.length;
      if (pauseMs > 0 && !paused) {
        paused = true;
        ctl.pause();
        setTimeout(() => ctl.resume(), pauseMs);
      }
    },
    onResponseEnd: (_c, trailers) => {
      out.trailers = trailers;
      resolve(out);
    },
    onResponseError: (_c, err) => {
      out.error = err;
      resolve(out);
    },
  };
  return { handler, done };
}

test('h2c client: pseudo-headers from the request, no connection-specific fields upstream', async () => {
  const port = await server((s) => {
    s.respond({ ':status': 200, 'content-length': '2', 'x-a': 'b' });
    s.end('ok');
  });
  const p = pool(port);
  const srv = servers.at(-1)!;
  const headersSeen = new Promise<Record<string, unknown>>((r) => srv.once('stream', (_s, h) => r(h as Record<string, unknown>)));
  const { handler, done } = recorder();
  p.dispatch(request('/path?q=1'), handler);
  const o = await done;
  const h = await headersSeen;
  assert.equal(o.status, 200);
  assert.deepEqual(o.headers?.filter((_, i, a) => a[i - (i % 2)] !== 'date'), ['x-a', 'b', 'content-length', '2']);
  assert.equal(h[':authority'], 'example.com');
  assert.equal(h[':path'], '/path?q=1');
  assert.equal(h.te, 'trailers');
  assert.equal(h.connection, undefined);
  await p.close();
});

test('h2c client: every DATA frame reaches a paused handler before the trailers (no loss under backpressure)', async () => {
  const size = 4 * 1024 * 1024;
  const port = await server((s) => {
    s.respond({ ':status': 200 }, { waitForTrailers: true });
    s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0', 'x-t': '1' }));
    s.end(Buffer.alloc(size, 1));
  });
  const p = pool(port);
  const { handler, done } = recorder(200);
  p.dispatch(request(), handler);
  const o = await done;
  assert.equal(o.bytes, size);
  assert.deepEqual(o.trailers, ['grpc-status', '0', 'x-t', '1']);
  await p.close();
});

test('h2c client: abort resets the upstream stream with CANCEL', async () => {
  let reset: Promise<number> | undefined;
  const port = await server((s) => {
    reset = new Promise((r) => s.on('close', () => r(s.rstCode)));
    s.respond({ ':status': 200 });
    s.write('partial');
  });
  const p = pool(port);
  const { handler } = recorder();
  const first = new Promise<void>((r) => {
    const orig = handler.onResponseData;
    handler.onResponseData = (c, chunk) => {
      orig(c, chunk);
      r();
    };
  });
  let ctl: UpstreamControl | undefined;
  const orig = handler.onRequestStart;
  handler.onRequestStart = (c) => {
    ctl = c;
    orig(c);
  };
  p.dispatch(request(), handler);
  await first;
  ctl!.abort(new Error('client gone'));
  assert.equal(await reset, constants.NGHTTP2_CANCEL);
  await p.close();
});

test('h2c client: a refused connection is a connect error (retryable), a reset stream is not', async () => {
  const closed = await server(() => {});
  servers.pop()!.close();
  await new Promise((r) => setTimeout(r, 50));
  const { handler, done } = recorder();
  const p = pool(closed);
  p.dispatch(request(), handler);
  assert.equal((await done).error?.code, 'ECONNREFUSED');
  await p.destroy();

  const port = await server((s) => s.close(constants.NGHTTP2_INTERNAL_ERROR));
  const p2 = pool(port);
  const r2 = recorder();
  p2.dispatch(request(), r2.handler);
  assert.equal((await r2.done).error?.code, 'UPSTREAM_RESET');
  const port3 = await server((s) => s.close(constants.NGHTTP2_REFUSED_STREAM));
  const p3 = pool(port3);
  const r3 = recorder();
  p3.dispatch(request(), r3.handler);
  assert.equal((await r3.done).error?.code, 'UPSTREAM_REFUSED_STREAM');
  await p2.close();
  await p3.close();
});

test('h2c client: after the server sends GOAWAY, new requests go on a new session', async () => {
  let sessions = 0;
  const srv = createServer();
  servers.push(srv);
  srv.on('session', (s) => {
    sessions++;
    s.on('error', () => {});
  });
  srv.on('stream', (s) => {
    s.on('error', () => {});
    s.respond({ ':status': 200 });
    s.end('ok');
    // Graceful shutdown of this connection after the first answer.
    s.session?.goaway(constants.NGHTTP2_NO_ERROR);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const p = pool((srv.address() as AddressInfo).port);
  for (let i = 0; i < 3; i++) {
    const { handler, done } = recorder();
    p.dispatch(request(`/n${i}`), handler);
    const o = await done;
    assert.equal(o.status, 200, `request ${i}: ${o.error?.message}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(sessions, 3);
  await p.close();
});

test('h2c client: a silent stream of a live peer stays open; a peer that stops answering PINGs fails its streams', async () => {
  const opts = { connectTimeoutMs: 2000, pingTimeoutMs: 300, idleTimeoutMs: 200, maxHeaderBytes: 65536 };
  // Live but silent for 1.5 s (a gRPC watch with nothing to say), then it ends the response.
  const livePort = await server((s) => {
    s.respond({ ':status': 200 });
    setTimeout(() => s.end('late'), 1500);
  });
  const live = new H2cPool('127.0.0.1', livePort, opts);
  const r1 = recorder();
  live.dispatch(request(), r1.handler);
  const o1 = await r1.done;
  assert.equal(o1.error, undefined);
  assert.equal(o1.bytes, 4);
  await live.close();

  // Dead: a TCP relay in front of a live server goes silent both ways once the head arrived
  // (a peer that vanished without RST or FIN), so the client's PING is never answered.
  const realPort = await server((s) => s.respond({ ':status': 200 }));
  let blackhole = false;
  const relay = createNetServer((down) => {
    const up = netConnect(realPort, '127.0.0.1');
    down.on('data', (d) => blackhole || up.write(d));
    up.on('data', (d) => blackhole || down.write(d));
    down.on('error', () => {});
    up.on('error', () => {});
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const dead = new H2cPool('127.0.0.1', (relay.address() as AddressInfo).port, opts);
  const r2 = recorder();
  const onStart = r2.handler.onResponseStart;
  r2.handler.onResponseStart = (c, st, h, t) => {
    onStart(c, st, h, t);
    blackhole = true;
  };
  const started = Date.now();
  dead.dispatch(request(), r2.handler);
  const o2 = await r2.done;
  assert.equal(o2.status, 200);
  assert.ok(o2.error !== undefined, 'the stream failed');
  assert.ok(Date.now() - started < 3000, `failed after ${Date.now() - started} ms`);
  relay.close();
  await dead.destroy();
});
