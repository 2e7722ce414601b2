// The Gateway API features FluxGate claims in GatewayClass status.supportedFeatures. The
// conformance suite reads this list to decide which tests to run, so it must name exactly the
// features whose conformance tests pass: add a name here only together with a passing
// conformance report (conformance/reports/).

/**
 * Core features: every conformant implementation supports them. GRPCRoute is the core of the
 * GATEWAY-GRPC profile (its conformance tests pass: reports/).
 */
const CORE = ['Gateway', 'GRPCRoute', 'HTTPRoute', 'ReferenceGrant'] as const;

/**
 * Extended features that the translator compiles and the proxy implements (see
 * test/proxy and the golden cases); conformance runs confirm them.
 */
const EXTENDED = [
  'GatewayAddressEmpty',
  'GatewayHTTPListenerIsolation',
  'GatewayHTTPSListenerDetectMisdirectedRequests',
  'GatewayInfrastructure',
  'GatewayPort8080',
  'GatewayStaticAddresses',
  'GRPCRouteNamedRouteRule',
  'HTTPRoute303RedirectStatusCode',
  'HTTPRoute307RedirectStatusCode',
  'HTTPRoute308RedirectStatusCode',
  'HTTPRouteBackendProtocolH2C',
  'HTTPRouteBackendProtocolWebSocket',
  'HTTPRouteBackendRequestHeaderModification',
  'HTTPRouteBackendTimeout',
  'HTTPRouteCORS',
  'HTTPRouteDestinationPortMatching',
  'HTTPRouteHostRewrite',
  'HTTPRouteMethodMatching',
  'HTTPRouteNamedRouteRule',
  'HTTPRouteParentRefPort',
  'HTTPRoutePathRedirect',
  'HTTPRoutePathRewrite',
  'HTTPRoutePortRedirect',
  'HTTPRouteQueryParamMatching',
  'HTTPRouteRequestMirror',
  'HTTPRouteRequestMultipleMirrors',
  'HTTPRouteRequestPercentageMirror',
  'HTTPRouteRequestTimeout',
  'HTTPRouteResponseHeaderModification',
  'HTTPRouteRetry',
  // No upstream tests in v1.6.3: proven by test/proxy/retry.test.ts.
  'HTTPRouteRetryBackendTimeout',
  'HTTPRouteRetryConnectionError',
  'HTTPRouteSchemeRedirect',
  'ListenerSet',
] as const;

/**
 * Stream routes (TLS, TCP listeners): core of the GATEWAY-TLS and GATEWAY-TCP profiles, and the
 * TLSRoute extended modes (termination, and Passthrough with Terminate on one port).
 */
const STREAMS = ['TCPRoute', 'TLSRoute', 'TLSRouteModeMixed', 'TLSRouteModeTerminate'] as const;

/** Sorted ascending by name, as the GatewayClass API requires. */
export function supportedFeatures(): { name: string }[] {
  return [...CORE, ...EXTENDED, ...STREAMS].sort().map((name) => ({ name }));
}
