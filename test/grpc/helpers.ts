/**
 * gRPC test helpers: a real @grpc/grpc-js echo server (the backend) and clients for it, with raw
 * byte messages (identity serialisers), so no .proto file or code generation is needed. The
 * service is `fluxgate.test.Echo` with one method per call kind.
 */
import * as grpc from '@grpc/grpc-js';

export const SERVICE = 'fluxgate.test.Echo';

const id = (b: Buffer): Buffer => b;

export function method(name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path: `/${SERVICE}/${name}`,
    requestStream,
    responseStream,
    requestSerialize: id,
    requestDeserialize: id,
    responseSerialize: id,
    responseDeserialize: id,
  };
}

export const echoService = {
  Unary: method('Unary', false, false),
  ServerStream: method('ServerStream', false, true),
  ClientStream: method('ClientStream', true, false),
  Bidi: method('Bidi', true, true),
} satisfies grpc.ServiceDefinition;

/** A method of another service, for routing tests (same handlers, other path). */
export function otherService(service: string): grpc.ServiceDefinition {
  return {
    Unary: { ...echoService.Unary, path: `/${service}/Unary` },
  };
}

/** What the backend saw of one call. */
export interface SeenCall {
  readonly method: string;
  readonly metadata: Record<string, string>;
  /** The call's deadline (epoch ms) as the server saw it; undefined: none. */
  readonly deadlineMs: number | undefined;
  cancelled: boolean;
}

export interface GrpcBackend {
  readonly name: string;
  readonly port: number;
  readonly calls: SeenCall[];
  /** Resolves when the next call of the backend is cancelled (the client's reset reached it). */
  nextCancel(): Promise<SeenCall>;
  close(): Promise<void>;
}

function metadataOf(md: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.getMap())) out[k] = Buffer.isBuffer(v) ? v.toString('base64') : v;
  return out;
}

/** Trailing metadata every answer carries: which backend answered, and a custom trailer. */
function trailers(name: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('x-backend', name);
  md.set('x-trailer', 'end-of-call');
  md.set('x-bin-trailer-bin', Buffer.from([0, 1, 2, 255]));
  return md;
}

/** What every server call has (grpc-js does not export its ServerSurfaceCall type). */
interface SurfaceCall {
  readonly metadata: grpc.Metadata;
  getDeadline(): grpc.Deadline;
  sendMetadata(md: grpc.Metadata): void;
  on(event: 'cancelled', listener: () => void): unknown;
}

const MAX = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 };

/**
 * An echo backend over h2c. Unary: answers its request bytes; a request `fail:<code>:<message>`
 * answers that status with trailing metadata; `sleep:<ms>` answers after that time (cancellation
 * and deadline tests). ServerStream: a request `<n>:<size>` streams n messages of size bytes.
 * ClientStream: answers the total byte count of the messages it read, as text. Bidi: echoes
 * every message as it arrives. Initial metadata `x-echo-<key>` repeats request metadata keys
 * starting with `x-`.
 */
export async function startGrpcBackend(name: string, services: grpc.ServiceDefinition[] = [echoService]): Promise<GrpcBackend> {
  const calls: SeenCall[] = [];
  const cancelWaiters: ((c: SeenCall) => void)[] = [];
  const server = new grpc.Server(MAX);

  function record(call: SurfaceCall, methodName: string): SeenCall {
    const d = call.getDeadline();
    const deadlineMs = d instanceof Date ? d.getTime() : Number.isFinite(d) ? d : undefined;
    const seen: SeenCall = { method: methodName, metadata: metadataOf(call.metadata), deadlineMs, cancelled: false };
    calls.push(seen);
    call.on('cancelled', () => {
      seen.cancelled = true;
      cancelWaiters.shift()?.(seen);
    });
    const initial = new grpc.Metadata();
    initial.set('x-backend', name);
    for (const [k, v] of Object.entries(seen.metadata)) if (k.startsWith('x-') && !k.endsWith('-bin')) initial.set(`x-echo-${k.slice(2)}`, v);
    call.sendMetadata(initial);
    return seen;
  }

  const unary: grpc.handleUnaryCall<Buffer, Buffer> = (call, cb) => {
    record(call, call.getPath());
    const text = call.request.length <= 256 ? call.request.toString('utf8') : '';
    if (text.startsWith('fail:')) {
      const [, code, ...msg] = text.split(':');
      cb({ code: Number(code), details: msg.join(':'), metadata: trailers(name) });
      return;
    }
    if (text.startsWith('sleep:')) {
      const t = setTimeout(() => cb(null, Buffer.from(`slept:${name}`), trailers(name)), Number(text.slice(6)));
      call.on('cancelled', () => clearTimeout(t));
      return;
    }
    cb(null, call.request, trailers(name));
  };

  for (const def of services) {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const key of Object.keys(def)) {
      const m = def[key]!;
      if (!m.requestStream && !m.responseStream) impl[key] = unary;
      else if (!m.requestStream) {
        impl[key] = ((call: grpc.ServerWritableStream<Buffer, Buffer>) => {
          record(call, call.getPath());
          const [n, size] = call.request.toString().split(':').map(Number);
          for (let i = 0; i < n!; i++) call.write(Buffer.alloc(size!, 48 + (i % 10)));
          call.end(trailers(name));
        }) as grpc.handleServerStreamingCall<Buffer, Buffer>;
      } else if (!m.responseStream) {
        impl[key] = ((call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
          record(call, call.getPath());
          let total = 0;
          let count = 0;
          call.on('data', (b: Buffer) => {
            total += b.length;
            count++;
          });
          call.on('end', () => cb(null, Buffer.from(`${count}:${total}`), trailers(name)));
        }) as grpc.handleClientStreamingCall<Buffer, Buffer>;
      } else {
        impl[key] = ((call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
          record(call, call.getPath());
          call.on('data', (b: Buffer) => call.write(b));
          call.on('end', () => call.end(trailers(name)));
        }) as grpc.handleBidiStreamingCall<Buffer, Buffer>;
      }
    }
    server.addService(def, impl);
  }

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    name,
    port,
    calls,
    nextCancel: () => new Promise((r) => cancelWaiters.push(r)),
    close: () => new Promise((r) => server.tryShutdown(() => r())),
  };
}

export type EchoClient = grpc.Client & {
  Unary: (req: Buffer, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => grpc.ClientUnaryCall;
  ServerStream: (req: Buffer, md: grpc.Metadata, opts?: grpc.CallOptions) => grpc.ClientReadableStream<Buffer>;
  ClientStream: (md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => grpc.ClientWritableStream<Buffer>;
  Bidi: (md: grpc.Metadata, opts?: grpc.CallOptions) => grpc.ClientDuplexStream<Buffer, Buffer>;
};

export interface ClientOptions {
  /** :authority the client sends (routing by hostname). */
  authority?: string;
  /** TLS: the CA to trust and the name to verify; plaintext h2c when absent. */
  tls?: { ca: string; servername: string };
  service?: grpc.ServiceDefinition;
}

export function echoClient(port: number, opts: ClientOptions = {}): EchoClient {
  const Ctor = grpc.makeGenericClientConstructor(opts.service ?? echoService, 'Echo');
  const channelOptions: grpc.ChannelOptions = { ...MAX };
  if (opts.authority !== undefined) channelOptions['grpc.default_authority'] = opts.authority;
  let creds = grpc.credentials.createInsecure();
  if (opts.tls !== undefined) {
    creds = grpc.credentials.createSsl(Buffer.from(opts.tls.ca));
    channelOptions['grpc.ssl_target_name_override'] = opts.tls.servername;
  }
  return new Ctor(`127.0.0.1:${port}`, creds, channelOptions) as unknown as EchoClient;
}

export interface UnaryResult {
  readonly err: grpc.ServiceError | null;
  readonly value: Buffer | undefined;
  readonly headers: grpc.Metadata | undefined;
  readonly status: grpc.StatusObject;
}

/** Every message of a server stream and its final status (after the stream's end, so none is missed). */
export function readAll(call: grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>): Promise<{ messages: Buffer[]; status: grpc.StatusObject }> {
  return new Promise((resolve) => {
    const messages: Buffer[] = [];
    let status: grpc.StatusObject | undefined;
    let ended = false;
    const done = (): void => {
      if (ended && status !== undefined) resolve({ messages, status });
    };
    call.on('data', (b: Buffer) => messages.push(b));
    call.on('error', () => {
      // The status event carries the error as well; an errored stream never ends.
      ended = true;
      done();
    });
    call.on('end', () => {
      ended = true;
      done();
    });
    call.on('status', (s: grpc.StatusObject) => {
      status = s;
      done();
    });
  });
}

/** A unary call with its initial metadata and final status (trailers), whatever the outcome. */
export function unary(client: grpc.Client, path: string, req: Buffer, md = new grpc.Metadata(), opts: grpc.CallOptions = {}): Promise<UnaryResult> {
  return new Promise((resolve) => {
    let headers: grpc.Metadata | undefined;
    let result: { err: grpc.ServiceError | null; value: Buffer | undefined } | undefined;
    let status: grpc.StatusObject | undefined;
    const done = (): void => {
      if (result !== undefined && status !== undefined) resolve({ ...result, headers, status });
    };
    const call = client.makeUnaryRequest<Buffer, Buffer>(path, id, id, req, md, opts, (err, value) => {
      result = { err, value };
      done();
    });
    call.on('metadata', (m: grpc.Metadata) => (headers = m));
    call.on('status', (s: grpc.StatusObject) => {
      status = s;
      done();
    });
  });
}

export { grpc };
