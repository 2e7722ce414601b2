// Configuration generators: the same N routes for nginx, the plain Node proxy and FluxGate.
//
// Route shape: N HTTPRoutes, route i matches PathPrefix `/r/<i, 5 digits>` and sends to one
// Service. Fixed-width names give every route the same path length, so Gateway API precedence
// (path length, then age, then name) orders them by index, and the benchmark requests route
// floor(N/2): a router that scans its table linearly pays for half of it on every request.
// One more route, `/filter`, carries a RequestHeaderModifier (add) and a ResponseHeaderModifier
// (set); it is present in every table. Two more send HTTP/2 to an h2c backend: `/h2` (an
// HTTPRoute to a Service with appProtocol kubernetes.io/h2c) and the gRPC service `bench.Echo` (a
// GRPCRoute). So a table of "N routes" has N+3 routes.

export const FILTER_PREFIX = '/filter';
export const BACKEND_BODY = 'hello from the backend\n';

export function routePrefix(i: number): string {
  return `/r/${String(i).padStart(5, '0')}`;
}

/** The path the load generator requests for a table of n routes: the middle route. */
export function middlePath(n: number): string {
  return `${routePrefix(Math.floor(n / 2))}/bench`;
}

export const FILTER_PATH = `${FILTER_PREFIX}/bench`;

/** HTTP/2 end to end: the client's h2c request goes on as h2c to the backend. */
export const H2_PREFIX = '/h2';
export const H2_PATH = `${H2_PREFIX}/bench`;

/** gRPC unary: service and method the load calls, and the messages both ways. */
export const GRPC_SERVICE = 'bench.Echo';
export const GRPC_PATH = `/${GRPC_SERVICE}/Unary`;

/** One gRPC message frame (uncompressed flag, 4-byte big-endian length, payload). */
export function grpcFrame(payload: string): Buffer {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** The request message h2load sends (-d) and the answer the backend serves. */
export const GRPC_REQUEST = grpcFrame('bench request 0123456789');
export const GRPC_RESPONSE = grpcFrame('bench answer 0123456789abcdef');

/** Ports: one base, fixed offsets, all on 127.0.0.1. */
export interface Ports {
  readonly backendH1: number;
  readonly backendH2c: number;
  nginx(n: number): { h1: number; h2c: number };
  node(n: number): { h1: number; h2c: number };
  fluxgate(n: number): { http: number; admin: number };
  /** The calibration proxy (node:http + undici, no routing): one instance. */
  readonly floor: number;
  /** The calibration bare Node server (answers itself, no proxying). */
  readonly bare: number;
}

export function ports(base: number, sizes: readonly number[]): Ports {
  const idx = (n: number): number => {
    const i = sizes.indexOf(n);
    if (i < 0) throw new Error(`unknown route count ${n}`);
    return i;
  };
  return {
    backendH1: base,
    backendH2c: base + 1,
    nginx: (n) => ({ h1: base + 100 + idx(n) * 10, h2c: base + 101 + idx(n) * 10 }),
    node: (n) => ({ h1: base + 200 + idx(n) * 10, h2c: base + 201 + idx(n) * 10 }),
    fluxgate: (n) => ({ http: base + 300 + idx(n) * 10, admin: base + 309 + idx(n) * 10 }),
    floor: base + 2,
    bare: base + 3,
  };
}

const nginxCommon = (dir: string): string => `worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
`;

/**
 * The backend: nginx answering a fixed 200 from memory, HTTP/1.1 and h2c (prior knowledge) on
 * two ports. nginx rather than a Node server because it is the cheapest server available here
 * (a few microseconds of CPU per request), so the backend, which shares core 1 with the load
 * generator, takes as little as possible from it. It echoes the filter's request header so a
 * sanity check can see the RequestHeaderModifier arrive.
 */
export function nginxBackendConf(dir: string, p: Ports): string {
  return `${nginxCommon(dir)}http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  default_type text/plain;
  client_body_temp_path ${dir}/body;
  server {
    listen 127.0.0.1:${p.backendH1} backlog=4096;
    listen 127.0.0.1:${p.backendH2c} http2 backlog=4096;
    location / {
      add_header X-Echo-Request $http_x_bench_request;
      return 200 ${JSON.stringify(BACKEND_BODY)};
    }
    # gRPC unary answer: the message frame from a file (a config string cannot hold its NUL
    # bytes) with grpc-status in the trailers. A POST to a static file is a 405 in nginx; the
    # error_page turns it into the file's 200 (an internal GET of the same URI). The mirror
    # subrequest only makes nginx read the whole request body first, as a gRPC server does:
    # answering before it resets the stream under the proxy, which nginx's grpc_pass then
    # reports as 502s ("upstream sent frame for unknown stream").
    location /${GRPC_SERVICE}/ {
      mirror /read-body;
      mirror_request_body on;
      root ${dir}/static;
      types { }
      default_type application/grpc;
      add_trailer grpc-status 0;
      error_page 405 =200 $uri;
    }
    location = /read-body { internal; return 204; }
  }
}
`;
}

/** Files the backend serves (under its folder): the gRPC answer. */
export function nginxBackendFiles(): Record<string, Buffer> {
  return { [`static${GRPC_PATH}`]: GRPC_RESPONSE };
}

/**
 * nginx as the proxy under test: one worker, N prefix locations (nginx keeps them in a
 * static tree), upstream keep-alive, X-Forwarded-For/Proto like a Gateway implementation sets.
 * HTTP/1.1 on one port, h2c (prior knowledge: nginx 1.22 `listen ... http2` without TLS) on
 * another, both with the same locations.
 */
export function nginxProxyConf(dir: string, p: Ports, n: number): string {
  const { h1, h2c } = p.nginx(n);
  return `${nginxCommon(dir)}http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  upstream backend {
    server 127.0.0.1:${p.backendH1};
    keepalive 256;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
  }
  upstream backend_h2c {
    server 127.0.0.1:${p.backendH2c};
    keepalive 256;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
  }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host $host;
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  proxy_set_header X-Forwarded-Proto $scheme;
  server {
    listen 127.0.0.1:${h1} backlog=4096;
    include ${dir}/routes.conf;
  }
  server {
    listen 127.0.0.1:${h2c} http2 backlog=4096;
    include ${dir}/routes.conf;
    # HTTP/2 to the backend: nginx's proxy module speaks only HTTP/1.x upstream; grpc_pass is
    # its HTTP/2 (h2c) upstream client, for gRPC and for plain HTTP/2 requests alike.
    location ${H2_PREFIX} {
      grpc_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      grpc_set_header X-Forwarded-Proto $scheme;
      grpc_pass grpc://backend_h2c;
    }
    location /${GRPC_SERVICE}/ {
      grpc_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      grpc_set_header X-Forwarded-Proto $scheme;
      grpc_pass grpc://backend_h2c;
    }
  }
}
`;
}

export function nginxRoutesConf(n: number): string {
  const proxied = `proxy_pass http://backend;`;
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`location ${routePrefix(i)} { ${proxied} }`);
  out.push(`location ${FILTER_PREFIX} {
  proxy_set_header Connection "";
  proxy_set_header Host $host;
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  proxy_set_header X-Forwarded-Proto $scheme;
  proxy_set_header X-Bench-Request added;
  proxy_hide_header X-Bench-Response;
  add_header X-Bench-Response set always;
  ${proxied}
}`);
  return `${out.join('\n')}\n`;
}

export function nodeProxySpec(p: Ports, n: number): string {
  const prefixes: string[] = [];
  for (let i = 0; i < n; i++) prefixes.push(routePrefix(i));
  return JSON.stringify({
    upstream: `http://127.0.0.1:${p.backendH1}`,
    h1Port: p.node(n).h1,
    h2cPort: p.node(n).h2c,
    prefixes,
    filterPrefix: FILTER_PREFIX,
  });
}

const NS = 'bench';

/** Gateway API YAML for FluxGate: class, gateway, backend Service + EndpointSlice. */
export function fluxgateBaseYaml(p: Ports, n: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: fluxgate
spec:
  controllerName: fluxgate.io/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: bench
  namespace: ${NS}
spec:
  gatewayClassName: fluxgate
  listeners:
    - name: http
      protocol: HTTP
      port: ${p.fluxgate(n).http}
      allowedRoutes:
        namespaces:
          from: Same
---
apiVersion: v1
kind: Service
metadata:
  name: backend
  namespace: ${NS}
spec:
  ports:
    - name: http
      port: 80
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-1
  namespace: ${NS}
  labels:
    kubernetes.io/service-name: backend
addressType: IPv4
ports:
  - name: http
    port: ${p.backendH1}
endpoints:
  - addresses: ["127.0.0.1"]
    conditions:
      ready: true
---
apiVersion: v1
kind: Service
metadata:
  name: backend-h2c
  namespace: ${NS}
spec:
  ports:
    - name: h2c
      port: 80
      appProtocol: kubernetes.io/h2c
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-h2c-1
  namespace: ${NS}
  labels:
    kubernetes.io/service-name: backend-h2c
addressType: IPv4
ports:
  - name: h2c
    port: ${p.backendH2c}
endpoints:
  - addresses: ["127.0.0.1"]
    conditions:
      ready: true
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: h2
  namespace: ${NS}
spec:
  parentRefs:
    - name: bench
  rules:
    - matches:
        - path: { type: PathPrefix, value: ${H2_PREFIX} }
      backendRefs:
        - name: backend-h2c
          port: 80
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata:
  name: grpc
  namespace: ${NS}
spec:
  parentRefs:
    - name: bench
  rules:
    - matches:
        - method: { service: ${GRPC_SERVICE} }
      backendRefs:
        - name: backend-h2c
          port: 80
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: filter
  namespace: ${NS}
spec:
  parentRefs:
    - name: bench
  rules:
    - matches:
        - path: { type: PathPrefix, value: ${FILTER_PREFIX} }
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            add:
              - name: X-Bench-Request
                value: added
        - type: ResponseHeaderModifier
          responseHeaderModifier:
            set:
              - name: X-Bench-Response
                value: set
      backendRefs:
        - name: backend
          port: 80
`;
}

export function httpRouteYaml(name: string, prefix: string): string {
  return `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${name}
  namespace: ${NS}
spec:
  parentRefs:
    - name: bench
  rules:
    - matches:
        - path: { type: PathPrefix, value: ${prefix} }
      backendRefs:
        - name: backend
          port: 80
`;
}

export function fluxgateRoutesYaml(n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(httpRouteYaml(`route-${String(i).padStart(5, '0')}`, routePrefix(i)));
  return parts.join('');
}
