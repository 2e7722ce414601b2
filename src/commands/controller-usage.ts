// The controller's usage text, apart from the command so that `fluxgate --help` and `serve`
// do not load the Kubernetes client.
export const CONTROLLER_USAGE = `  fluxgate controller [--kubeconfig PATH] [--local] [--metrics-address HOST:PORT] [--leader-elect]
      Run against a Kubernetes API: watch Gateway API objects, serve them, write their status.
      --kubeconfig        default: $KUBECONFIG, ~/.kube/config, or the pod's service account
      --controller-name   GatewayClass spec.controllerName to serve (default fluxgate.io/gateway-controller)
      --local             each Gateway on its own loopback address 127.0.x.y (no kube-proxy)
      --metrics-address   health, readiness, metrics and debug (default 127.0.0.1:9902; '' disables)
      --leader-elect      only the Lease holder writes status (run with several replicas)
      --leader-elect-namespace NS   where the Lease (and in-cluster, each Gateway's Service) lives
                          (default $POD_NAMESPACE or fluxgate-system)
      --service-type T    in-cluster: type of the Service made per Gateway (default LoadBalancer)
`;
