// Errors the controller raises, each with a stable code that logs, metrics and tests match on.
export type ControllerErrorCode =
  | 'KUBECONFIG_INVALID' // no usable cluster in the kubeconfig
  | 'KUBE_UNREACHABLE' // the request never got an HTTP answer (reset, refused, timeout)
  | 'KUBE_REQUEST_FAILED' // the API answered with an unexpected status
  | 'KUBE_WATCH_EXPIRED' // 410 Gone: the resourceVersion is too old, a re-list is needed
  | 'KUBE_KIND_NOT_SERVED' // none of a kind's versions is served (CRDs not installed)
  | 'STATUS_CONFLICT_RETRIES_EXHAUSTED'; // 409 on every attempt

export class ControllerError extends Error {
  readonly code: ControllerErrorCode;
  /** HTTP status from the API server, when there was one. */
  readonly statusCode: number | undefined;
  constructor(code: ControllerErrorCode, message: string, statusCode?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ControllerError';
    this.code = code;
    this.statusCode = statusCode;
  }
}
