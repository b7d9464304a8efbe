package k8s

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/project-starkite/starkite/libkite"
)

// Client is one connection to a cluster (spec §3): a dynamic client and a
// discovery client over one REST config, the context and default
// namespace it was built for, a default per-call timeout and the memo of
// kinds resolved through discovery.
type Client struct {
	dyn     dynamic.Interface
	disc    discovery.DiscoveryInterface
	rest    *rest.Config // nil for clients built from fakes; the typed clientset (logs, exec, leases) is built from it on demand
	context string
	ns      string
	timeout time.Duration

	kindsMu sync.Mutex
	kinds   map[string]*kindInfo // discovery hits only (never negatives)
}

// ClientOptions are the arguments of k8s.config (spec §3).
type ClientOptions struct {
	Context    string
	Namespace  string
	Kubeconfig string
	Timeout    time.Duration
}

// NewClientFromInterfaces builds a client over existing clients (tests,
// embedders). namespace "" means "default".
func NewClientFromInterfaces(dyn dynamic.Interface, disc discovery.DiscoveryInterface, cfg *rest.Config, contextName, namespace string, timeout time.Duration) *Client {
	if namespace == "" {
		namespace = "default"
	}
	return &Client{dyn: dyn, disc: disc, rest: cfg, context: contextName, ns: namespace, timeout: timeout}
}

// serviceAccountNamespace is where a pod finds its own namespace.
var serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// NewClient builds a client the way spec §3 resolves it: client-go's
// default loading rules ($KUBECONFIG, else ~/.kube/config; an explicit
// kubeconfig wins), the context and namespace overrides, and the
// in-cluster config when no kubeconfig works. No network I/O happens.
func NewClient(o ClientOptions) (*Client, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	overrides.Context.Namespace = o.Namespace
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)

	cfg, kerr := cc.ClientConfig()
	contextName, ns := o.Context, o.Namespace
	if kerr == nil {
		if contextName == "" {
			if raw, err := cc.RawConfig(); err == nil {
				contextName = raw.CurrentContext
			}
		}
		if ns == "" {
			if n, _, err := cc.Namespace(); err == nil {
				ns = n
			}
		}
	} else {
		var ierr error
		cfg, ierr = rest.InClusterConfig()
		if ierr != nil {
			return nil, fmt.Errorf("failed to build config (tried kubeconfig and in-cluster): %v", kerr)
		}
		if ns == "" {
			if b, err := os.ReadFile(serviceAccountNamespace); err == nil {
				ns = strings.TrimSpace(string(b))
			}
		}
	}
	if ns == "" {
		ns = "default"
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create dynamic client: %v", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create discovery client: %v", err)
	}
	return &Client{dyn: dyn, disc: disc, rest: cfg, context: contextName, ns: ns, timeout: o.Timeout}, nil
}

// Context is the kubeconfig context the client was built for ("" in-cluster).
func (c *Client) Context() string { return c.context }

// Namespace is the client's default namespace.
func (c *Client) Namespace() string { return c.ns }

// serverVersion reads /version with ctx through the discovery client's
// REST client (fakes have none: they answer ServerVersion).
func (c *Client) serverVersion(ctx context.Context) (*version.Info, error) {
	rc := c.disc.RESTClient()
	if rc == nil {
		return runAside(ctx, c.disc.ServerVersion)
	}
	body, err := rc.Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return nil, err
	}
	var info version.Info
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("unable to parse the server version: %v", err)
	}
	return &info, nil
}

// clientValue is the Starlark k8s.client value: every operation of the
// op table as a method, each with its try_ twin.
type clientValue struct {
	c *Client
}

var _ starlark.HasAttrs = (*clientValue)(nil)

const clientType = "k8s.client"

// clientMethods is the k8s.client method table, built from the op table.
var clientMethods = func() libkite.Methods {
	ms := libkite.Methods{}
	for name, o := range ops {
		ms[name] = o.method(name)
	}
	return ms
}()

func (v *clientValue) String() string {
	return fmt.Sprintf("<k8s.client context=%q namespace=%q>", v.c.context, v.c.ns)
}
func (v *clientValue) Type() string          { return clientType }
func (v *clientValue) Freeze()               {}
func (v *clientValue) Truth() starlark.Bool  { return true }
func (v *clientValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: %s", clientType) }
func (v *clientValue) AttrNames() []string   { return clientMethods.Names() }
func (v *clientValue) Attr(name string) (starlark.Value, error) {
	return clientMethods.Attr(v, clientType, name), nil
}
