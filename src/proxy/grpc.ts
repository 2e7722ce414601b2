/**
 * gRPC over HTTP/2 details the proxy needs on the request path (the wire format is the
 * backend's business; the proxy only reads what bounds a call).
 */

/** Milliseconds per grpc-timeout unit (gRPC over HTTP/2 spec, "TimeoutUnit"). */
function unitMs(unit: number): number {
  switch (unit) {
    case 72: return 3_600_000; // H
    case 77: return 60_000; // M
    case 83: return 1000; // S
    case 109: return 1; // m
    case 117: return 0.001; // u
    case 110: return 0.000001; // n
    default: return -1;
  }
}

/**
 * The call's deadline from `grpc-timeout` (1-8 ASCII digits and a unit), in whole milliseconds
 * rounded up (a deadline is never shortened to 0 by rounding); -1 when absent or malformed, which
 * the spec leaves to the server, so the proxy then applies no deadline of its own.
 */
export function parseGrpcTimeout(value: string | string[] | undefined): number {
  if (typeof value !== 'string' || value.length < 2 || value.length > 9) return -1;
  const per = unitMs(value.charCodeAt(value.length - 1));
  if (per < 0) return -1;
  let n = 0;
  for (let i = 0; i < value.length - 1; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return Math.ceil(n * per);
}
