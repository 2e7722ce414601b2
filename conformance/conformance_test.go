// Package conformance runs the upstream Gateway API conformance suite (the release pinned in
// go.mod, the same as the CRDs of the test cluster) against FluxGate.
//
// Normally started by `npm run conformance`, which brings the test cluster up, starts the
// controller, runs this test with -json and checks the report against the per-test results.
// Direct use (cluster and controller already running):
//
//	KUBECONFIG=../.cluster/kubeconfig go test -count=1 -timeout 90m -run TestConformance . \
//	  -args -conformance-profiles=GATEWAY-HTTP -report-output=/tmp/report.yaml
//
// Every upstream flag works (-run-test, -skip-tests, -supported-features, -debug, ...); the
// defaults below are FluxGate's: GatewayClass "fluxgate", the GATEWAY-HTTP profile, supported
// features inferred from the GatewayClass status.supportedFeatures, our implementation details.
package conformance

import (
	"context"
	"encoding/json"
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/conformance"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"
	"sigs.k8s.io/yaml"
)

// withoutCoreDNS drops the coredns Deployment (the DNS server behind the UDPRoute tests) from
// the upstream base manifests. The base setup waits for every pod of the infra namespace to be
// Ready, and a cluster that cannot run the coredns image would stall every profile there.
// Only for clusters that lack it (see KNOWN-FAILURES.md); a run with it says so in its log.
var withoutCoreDNS = flag.Bool("fluxgate.without-coredns", false,
	"apply the upstream base manifests without the coredns Deployment (UDP tests need it)")

const (
	defaultGatewayClass = "fluxgate"
	defaultProfile      = suite.GatewayHTTPConformanceProfileName

	// GatewayStaticAddresses needs one address FluxGate can use and one it cannot. In local
	// mode a Gateway binds its spec.addresses value when it is a loopback address: 127.1.0.1 is
	// outside the 127.0.0.0/16 range the controller allocates from. 192.0.2.1 (TEST-NET-1,
	// RFC 5737) is a valid IP that no interface has, so binding it fails (AddressNotUsable);
	// no traffic is ever sent to it.
	defaultUsableAddress   = "127.1.0.1"
	defaultUnusableAddress = "192.0.2.1"
)

// Implementation details for the report. The URL and contact can be overridden for forks.
var implementation = confv1.Implementation{
	Organization: "fluxgate",
	Project:      "fluxgate",
	URL:          envOr("FLUXGATE_PROJECT_URL", "https://github.com/fluxgate/fluxgate"),
	Contact:      []string{envOr("FLUXGATE_CONTACT", "https://github.com/fluxgate/fluxgate/issues")},
}

func TestConformance(t *testing.T) {
	opts := conformance.DefaultOptions(t)
	set := explicitFlags()

	if !set["gateway-class"] {
		opts.GatewayClassName = defaultGatewayClass
	}
	if !set["conformance-profiles"] {
		opts.ConformanceProfiles = []suite.ConformanceProfileName{defaultProfile}
	}
	if !set["organization"] {
		opts.Implementation.Organization = implementation.Organization
	}
	if !set["project"] {
		opts.Implementation.Project = implementation.Project
	}
	if !set["url"] {
		opts.Implementation.URL = implementation.URL
	}
	if !set["version"] {
		opts.Implementation.Version = packageVersion(t)
	}
	if !set["contact"] {
		opts.Implementation.Contact = implementation.Contact
	}

	ip := gatewayv1.IPAddressType
	if !set["usable-address"] {
		opts.UsableNetworkAddresses = []gatewayv1.GatewaySpecAddress{{Type: &ip, Value: defaultUsableAddress}}
	}
	if !set["unusable-address"] {
		opts.UnusableNetworkAddresses = []gatewayv1.GatewaySpecAddress{{Type: &ip, Value: defaultUnusableAddress}}
	}

	// Upstream infers the supported features from the GatewayClass status only when no single
	// test is selected; a single-test run must see the same features as the full run, so read
	// them here in that case.
	if opts.RunTest != "" && !opts.EnableAllSupportedFeatures &&
		len(opts.SupportedFeatures) == 0 && len(opts.ExemptFeatures) == 0 {
		opts.SupportedFeatures = gatewayClassFeatures(t, opts)
	}

	if *withoutCoreDNS {
		useBaseWithoutCoreDNS(t, &opts)
	}

	if opts.ReportOutputPath != "" {
		require.NoError(t, os.MkdirAll(filepath.Dir(opts.ReportOutputPath), 0o755))
	}
	conformance.RunConformanceWithOptions(t, opts)
}

// useBaseWithoutCoreDNS serves the upstream base manifests minus the coredns Deployment from
// memory, read from the embedded upstream files at run time.
func useBaseWithoutCoreDNS(t *testing.T, opts *suite.ConformanceOptions) {
	const name = "fluxgate/base-without-coredns.yaml"
	raw, err := fs.ReadFile(&conformance.Manifests, "base/manifests.yaml")
	require.NoError(t, err)
	docs := bytes.Split(raw, []byte("\n---\n"))
	kept := make([][]byte, 0, len(docs))
	dropped := 0
	for _, doc := range docs {
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		require.NoError(t, yaml.Unmarshal(doc, &meta))
		if meta.Kind == "Deployment" && meta.Metadata.Name == "coredns" {
			dropped++
			continue
		}
		kept = append(kept, doc)
	}
	require.Equal(t, 1, dropped, "expected exactly one coredns Deployment in the upstream base manifests")
	t.Logf("WARNING: base manifests without the coredns Deployment (-fluxgate.without-coredns); UDPRoute tests cannot pass")
	opts.ManifestFS = append([]fs.FS{fstest.MapFS{name: {Data: bytes.Join(kept, []byte("\n---\n"))}}}, opts.ManifestFS...)
	opts.BaseManifests = name
}

// explicitFlags names the flags given on the command line.
func explicitFlags() map[string]bool {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

func gatewayClassFeatures(t *testing.T, opts suite.ConformanceOptions) []features.FeatureName {
	gwc := &gatewayv1.GatewayClass{}
	err := opts.Client.Get(context.Background(), types.NamespacedName{Name: opts.GatewayClassName}, gwc)
	require.NoErrorf(t, err, "reading GatewayClass %q", opts.GatewayClassName)
	names := make([]features.FeatureName, 0, len(gwc.Status.SupportedFeatures))
	for _, f := range gwc.Status.SupportedFeatures {
		names = append(names, features.FeatureName(f.Name))
	}
	require.NotEmptyf(t, names, "GatewayClass %q has no status.supportedFeatures: is the controller running?", opts.GatewayClassName)
	t.Logf("supported features from GatewayClass %s status: %v", opts.GatewayClassName, names)
	return names
}

// packageVersion is FluxGate's version: the "version" of the package.json beside this module.
func packageVersion(t *testing.T) string {
	if v := os.Getenv("FLUXGATE_VERSION"); v != "" {
		return v
	}
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "package.json"))
	require.NoError(t, err, "reading package.json for the implementation version")
	var pkg struct {
		Version string `json:"version"`
	}
	require.NoError(t, json.Unmarshal(raw, &pkg))
	require.NotEmpty(t, pkg.Version, "package.json has no version")
	return pkg.Version
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
