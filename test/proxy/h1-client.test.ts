/**
 * The upstream HTTP/1.1 client against raw sockets: every framing rule (length, chunked with
 * trailers, close-delimited, HEAD/204/304, 1xx), strict rejection of ambiguous or malformed
 * responses, keep-alive reuse, replay after a stale keep-alive connection, reads split at every
 * byte, request body framing, timeouts and pool close.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { H1Pool, type UpstreamControl, type UpstreamHandler, type UpstreamRequest } from '../../src/proxy/h1-client.ts';

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

/** A raw server: `onRequest(socket, requestText, connectionIndex)` answers each complete request head. */
async function rawServer(onRequest: (s: Socket, head: string, conn: number) => void): Promise<{ port: number; connections: () => number }> {
  let conns = 0;
  const server = createServer((s) => {
    const index = conns++;
    let buf = '';
    s.on('error', () => {});
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.slice(0, end + 4);
        const cl = /content-length: (\d+)/i.exec(head);
        const chunked = /transfer-encoding: chunked/i.test(head);
        let bodyEnd = end + 4;
        if (cl !== null) bodyEnd += Number(cl[1]);
        else if (chunked) {
          const z = buf.indexOf('0\r\n\r\n', end + 4);
          if (z === -1) return;
          bodyEnd = z + 5;
        }
        if (buf.length < bodyEnd) return;
        const req = buf.slice(0, bodyEnd);
        buf = buf.slice(bodyEnd);
        onRequest(s, req, index);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, connections: () => conns };
}

interface Result {
  status: number;
  headers: string[];
  body: string;
  trailers: string[] | null;
  error: (Error & { code?: string }) | undefined;
}

function request(pool: H1Pool, method = 'GET', body?: { data: Buffer[]; length: number }): Promise<Result> {
  return new Promise((resolve) => {
    const r: Result = { status: 0, headers: [], body: '', trailers: null, error: undefined };
    const chunks: Buffer[] = [];
    const req: UpstreamRequest = {
      method,
      target: '/x?y=1',
      body: body === undefined ? null : Readable.from(body.data),
      bodyLength: body?.length ?? -1,
      headerLines: () => 'host: test\r\n',
      headerObject: () => ({ host: 'test' }),
    };
    const h: UpstreamHandler = {
      onRequestStart() {},
      onResponseStart(_c: UpstreamControl, status: number, headers: string[]) {
        r.status = status;
        r.headers = headers;
      },
      onResponseData(_c: UpstreamControl, chunk: Buffer) {
        chunks.push(chunk);
      },
      onResponseEnd(_c: UpstreamControl, trailers: string[] | null, last: Buffer | null) {
        if (last !== null) chunks.push(last);
        r.body = Buffer.concat(chunks).toString('latin1');
        r.trailers = trailers;
        resolve(r);
      },
      onResponseError(_c: UpstreamControl, err: Error) {
        r.error = err;
        resolve(r);
      },
    };
    pool.dispatch(req, h);
  });
}

const opts = { connectTimeoutMs: 1000, keepAliveTimeoutMs: 4000, responseTimeoutMs: 300_000, maxHeaderBytes: 64 * 1024 };

test('content-length, chunked with trailers, close-delimited, HEAD, 204 and 1xx framing', async () => {
  const responses: Record<string, string> = {
    '/len': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello',
    '/chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nGrpc-Status: 0\r\n\r\n',
    '/close': 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end',
    '/head': 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n',
    '/204': 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n',
    '/1xx': 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
  };
  for (const [name, text] of Object.entries(responses)) {
    const srv = await rawServer((s) => {
      s.write(text);
      if (name === '/close') s.end();
    });
    const pool = new H1Pool('127.0.0.1', srv.port, opts);
    const r = await request(pool, name === '/head' ? 'HEAD' : 'GET');
    assert.equal(r.error, undefined, `${name}: ${r.error?.message}`);
    switch (name) {
      case '/len':
        assert.equal(r.status, 200);
        assert.equal(r.body, 'hello');
        assert.deepEqual(r.headers, ['Content-Length', '5', 'X-A', '1'], 'names as the server spelled them');
        break;
      case '/chunked':
        assert.equal(r.body, 'hello world');
        assert.deepEqual(r.headers, []);
        assert.deepEqual(r.trailers, ['Grpc-Status', '0']);
        break;
      case '/close':
        assert.equal(r.body, 'until the end');
        break;
      case '/head':
        assert.equal(r.body, '');
        assert.deepEqual(r.headers, ['Content-Length', '100']);
        break;
      case '/204':
        assert.equal(r.status, 204);
        break;
      case '/1xx':
        assert.equal(r.status, 201);
        assert.equal(r.body, 'ok');
        break;
    }
    await pool.destroy();
  }
});

test('ambiguous or malformed responses fail the request and the connection is not reused', async () => {
  const bad: [string, string][] = [
    ['TE and CL', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n'],
    ['differing CLs', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'],
    ['CL list', 'HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc'],
    ['signed CL', 'HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc'],
    ['TE not chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n'],
    ['bare LF in a header', 'HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 0\r\n\r\n'],
    ['bare CR in a header', 'HTTP/1.1 200 OK\r\nX-A: 1\rX: 2\r\nContent-Length: 0\r\n\r\n'],
    ['space in a name', 'HTTP/1.1 200 OK\r\nX A: 1\r\nContent-Length: 0\r\n\r\n'],
    ['no colon', 'HTTP/1.1 200 OK\r\nX-A\r\nContent-Length: 0\r\n\r\n'],
    ['upper-case TE and CL', 'HTTP/1.1 200 OK\r\nTRANSFER-ENCODING: chunked\r\nCONTENT-LENGTH: 3\r\n\r\n0\r\n\r\n'],
    ['control character in a value', 'HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\nContent-Length: 0\r\n\r\n'],
    ['bad status line', 'HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ['bad status code', 'HTTP/1.1 20x OK\r\nContent-Length: 0\r\n\r\n'],
    ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n'],
    ['chunk longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nAB\r\n0\r\n\r\n'],
    ['101', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n'],
    ['premature close', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'],
  ];
  for (const [name, text] of bad) {
    const srv = await rawServer((s) => {
      s.write(text);
      if (name === 'premature close') s.end();
    });
    const pool = new H1Pool('127.0.0.1', srv.port, opts);
    const r = await request(pool);
    assert.ok(r.error !== undefined, `${name}: accepted (status ${r.status}, body ${JSON.stringify(r.body)})`);
    assert.equal(pool.connections, 0, `${name}: connection kept`);
    await pool.destroy();
  }
});

test('bytes after a complete response: the response is delivered, the connection is dropped', async () => {
  const srv = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n'));
  const pool = new H1Pool('127.0.0.1', srv.port, opts);
  const r = await request(pool);
  assert.equal(r.body, 'ok');
  assert.equal(pool.connections, 0);
  await pool.destroy();
});

test('body chunks a handler keeps stay intact while later reads of other connections arrive', async () => {
  // Plain upstream sockets read into one shared buffer; `request` keeps every chunk until the
  // end, so a chunk that still pointed into that buffer would be overwritten by later reads.
  const bodies = [randomBytes(256 * 1024), randomBytes(256 * 1024), randomBytes(256 * 1024)];
  const srv = await rawServer((s, _head, conn) => {
    const body = bodies[conn % bodies.length]!;
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
    // In pieces across event-loop turns, so the client's reads of the three connections interleave.
    let off = 0;
    const step = (): void => {
      if (off >= body.length || s.destroyed) return;
      s.write(body.subarray(off, off + 8192));
      off += 8192;
      setImmediate(step);
    };
    step();
  });
  const pools = bodies.map(() => new H1Pool('127.0.0.1', srv.port, opts));
  const results = await Promise.all(pools.map((p) => request(p)));
  const expected = bodies.map((b) => b.toString('latin1'));
  const seen = new Set<number>();
  for (const r of results) {
    assert.equal(r.error, undefined);
    const k = expected.indexOf(r.body);
    assert.notEqual(k, -1, 'a response body differs from every body the server sent');
    seen.add(k);
  }
  assert.equal(seen.size, bodies.length);
  await Promise.all(pools.map((p) => p.destroy()));
});

test('keep-alive reuse; a request that dies unanswered on a reused connection is replayed only when idempotent', async () => {
  let n = 0;
  // Requests 3, 5 and 6 meet a connection the server closes as they arrive (the race of a
  // keep-alive timeout with the next request): nothing is answered on it.
  const dies = new Set([3, 5, 6]);
  const srv = await rawServer((s) => {
    n++;
    if (dies.has(n)) {
      s.destroy();
      return;
    }
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${n % 10}`);
  });
  const pool = new H1Pool('127.0.0.1', srv.port, opts);
  assert.equal((await request(pool)).body, '1');
  assert.equal((await request(pool)).body, '2');
  assert.equal(srv.connections(), 1, 'one connection for both');
  const replayed = await request(pool);
  assert.equal(replayed.error, undefined);
  assert.equal(replayed.body, '4', 'GET replayed on a new connection');
  assert.equal(srv.connections(), 2);
  const post = await request(pool, 'POST');
  assert.ok(post.error !== undefined, 'a POST is never replayed: the server may have acted on it');
  // The next request gets a new connection (the failed one is gone), which dies unanswered: not
  // a reused connection, so no replay either.
  const fresh = await request(pool, 'DELETE');
  assert.ok(fresh.error !== undefined);
  const del = await request(pool, 'DELETE');
  assert.equal(del.error, undefined);
  assert.equal(del.body, '7');
  await pool.destroy();
});

test('an idle connection the server closes leaves the pool at once: a later POST gets a new one', async () => {
  // A POST cannot be replayed on a fresh connection, so a stale one in the pool would fail it.
  const srv = await rawServer((s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    setTimeout(() => s.end(), 20);
  });
  const pool = new H1Pool('127.0.0.1', srv.port, opts);
  assert.equal((await request(pool)).body, 'ok');
  assert.equal(pool.connections, 1);
  const deadline = Date.now() + 2000;
  while (pool.connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(pool.connections, 0, 'the closed connection is still pooled');
  const r = await request(pool, 'POST', { data: [Buffer.from('body')], length: 4 });
  assert.equal(r.error, undefined);
  assert.equal(r.body, 'ok');
  assert.equal(srv.connections(), 2);
  await pool.destroy();
});

test('Keep-Alive timeout hint of the server shortens the idle time; timeout=1 disables reuse', async () => {
  const srv = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 0\r\n\r\n'));
  const pool = new H1Pool('127.0.0.1', srv.port, opts);
  await request(pool);
  await request(pool);
  assert.equal(srv.connections(), 2);
  await pool.destroy();
});

test('split reads: any split of a chunked response with trailers parses the same', async () => {
  const text = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 2\r\n\r\n';
  let splits: number[] = [];
  const srv = await rawServer(async (s) => {
    let prev = 0;
    s.cork();
    for (const at of [...splits, text.length]) {
      s.write(text.slice(prev, at));
      s.uncork();
      await new Promise((r) => setTimeout(r, 1));
      s.cork();
      prev = at;
    }
    s.uncork();
  });
  const pool = new H1Pool('127.0.0.1', srv.port, opts);
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 6 }), async (points) => {
      splits = points.sort((a, b) => a - b);
      const r = await request(pool);
      assert.equal(r.error, undefined);
      assert.equal(r.body, 'hello world');
      assert.deepEqual(r.headers, ['X-A', '1']);
      assert.deepEqual(r.trailers, ['X-T', '2']);
    }),
    { numRuns: 40 },
  );
  // Every byte on its own.
  splits = Array.from({ length: text.length - 1 }, (_, i) => i + 1);
  const r = await request(pool);
  assert.equal(r.body, 'hello world');
  assert.equal(srv.connections(), 1, 'one keep-alive connection throughout');
  await pool.destroy();
});

test('request bodies: Content-Length when known, chunked otherwise; the server sees the exact bytes', async () => {
  const seen: string[] = [];
  const srv = await rawServer((s, req) => {
    seen.push(req);
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  });
  const pool = new H1Pool('127.0.0.1', srv.port, opts);
  await request(pool, 'POST', { data: [Buffer.from('abc'), Buffer.from('de')], length: 5 });
  await request(pool, 'POST', { data: [Buffer.from('abc'), Buffer.from('de')], length: -1 });
  await request(pool, 'POST');
  assert.match(seen[0]!, /^POST \/x\?y=1 HTTP\/1\.1\r\nhost: test\r\ncontent-length: 5\r\n\r\nabcde$/);
  assert.match(seen[1]!, /\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n$/);
  assert.doesNotMatch(seen[1]!, /content-length/i);
  assert.match(seen[2]!, /\r\ncontent-length: 0\r\n\r\n$/);
  // A body shorter than its declared length never reaches the server as a complete request.
  const short = await request(pool, 'POST', { data: [Buffer.from('abc')], length: 5 });
  assert.ok(short.error !== undefined);
  await pool.destroy();
});

test('response timeout: a silent upstream fails the request; connect errors keep their code', async () => {
  const srv = await rawServer(() => {});
  const pool = new H1Pool('127.0.0.1', srv.port, { ...opts, keepAliveTimeoutMs: 50, responseTimeoutMs: 200 });
  const t0 = performance.now();
  const r = await request(pool);
  assert.equal(r.error?.code, 'UPSTREAM_RESPONSE_TIMEOUT');
  assert.ok(performance.now() - t0 < 1000);
  await pool.destroy();
  const tmp = createServer();
  await new Promise<void>((res) => tmp.listen(0, '127.0.0.1', res));
  const dead = (tmp.address() as AddressInfo).port;
  await new Promise((res) => tmp.close(res));
  const deadPool = new H1Pool('127.0.0.1', dead, opts);
  assert.equal((await request(deadPool)).error?.code, 'ECONNREFUSED');
  await deadPool.destroy();
});

test('close(): in-flight requests finish, then every connection is gone; no new requests', async () => {
  const srv = await rawServer((s) => setTimeout(() => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), 50));
  const pool = new H1Pool('127.0.0.1', srv.port, opts);
  const inflight = request(pool);
  await new Promise((r) => setTimeout(r, 10));
  const closed = pool.close();
  assert.throws(() => pool.dispatch({} as UpstreamRequest, {} as UpstreamHandler));
  assert.equal((await inflight).body, 'ok');
  await closed;
  assert.equal(pool.connections, 0);
});

test('hop-by-hop response headers are dropped whatever their case, with the ones Connection names', async () => {
  const srv = await rawServer((s) =>
    s.write('HTTP/1.1 200 OK\r\nCONNECTION: X-Private, keep-alive\r\nX-Private: 1\r\nKeep-Alive: timeout=30\r\nUpgrade: h2c\r\nX-Kept: yes\r\nContent-Length: 0\r\n\r\n'),
  );
  const pool = new H1Pool('127.0.0.1', srv.port, opts);
  const r = await request(pool);
  assert.deepEqual(r.headers, ['X-Kept', 'yes', 'Content-Length', '0']);
  await pool.destroy();
});
