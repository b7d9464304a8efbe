// Package k8s is kite's Kubernetes module (spec k8s.md) on client-go: the
// dynamic client and discovery for every kind (CRDs included), the typed
// clientset only where the API needs it (logs, exec, leases).
//
// Layout: module.go (the module value, k8s.config, the default client),
// client.go (client construction and the k8s.client value), kinds.go
// (kind resolution), call.go (what every operation shares: binding,
// permission, timeout, dry run), ops.go (the operation table), convert.go
// (Starlark ⇄ API data, manifest coercion), yaml.go (k8s.yaml), errors.go.
package k8s

import (
	"sync"

	"go.starlark.net/starlark"

	k8sobj "github.com/project-starkite/starkite/cloudkite/modules/k8s/obj"
	"github.com/project-starkite/starkite/libkite"
)

// module is one k8s module instance: its client factory and the lazily
// built default client the module-level operations use.
type module struct {
	newClient func(ClientOptions) (*Client, error)

	mu  sync.Mutex
	def *Client
}

// New returns the k8s module.
func New() libkite.Module { return newModule(NewClient) }

// NewWithClientFactory returns the k8s module building its clients (the
// default one and k8s.config's) with factory, e.g. over fake clients.
func NewWithClientFactory(factory func(ClientOptions) (*Client, error)) libkite.Module {
	return newModule(factory)
}

func newModule(factory func(ClientOptions) (*Client, error)) libkite.Module {
	m := &module{newClient: factory}
	return &libkite.StaticModule{
		ID:    "k8s",
		Doc:   "Kubernetes: CRUD, apply, watch, wait, logs, exec, controllers and webhooks",
		Try:   true,
		Build: m.members,
	}
}

// members is the module's API: every operation on the default client,
// k8s.config and k8s.yaml. k8s.control, k8s.webhook and the k8s.obj
// namespace join them here.
func (m *module) members() starlark.StringDict {
	d := starlark.StringDict{
		"config":  starlark.NewBuiltin("k8s.config", m.config),
		"yaml":    starlark.NewBuiltin("k8s.yaml", yamlBuiltin),
		"control": starlark.NewBuiltin("k8s.control", m.control),
		"webhook": starlark.NewBuiltin("k8s.webhook", webhook),
		"obj":     k8sobj.Namespace(),
	}
	for name, o := range ops {
		d[name] = o.builtin(m, name)
	}
	return d
}

// defaultClient returns the module's default client, building it on first
// use (no permission check: building does no I/O).
func (m *module) defaultClient() (*Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.def == nil {
		c, err := m.newClient(ClientOptions{})
		if err != nil {
			return nil, &defaultClientError{err}
		}
		m.def = c
	}
	return m.def, nil
}

// config is k8s.config(context="", namespace="", kubeconfig="", timeout="")
// -> k8s.client. Permission k8s.config. The default client is untouched.
func (m *module) config(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ctxName, ns, kubeconfig, timeout string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "context?", &ctxName, "namespace?", &ns, "kubeconfig?", &kubeconfig, "timeout?", &timeout); err != nil {
		return nil, err
	}
	d, _, err := parseTimeout(timeout)
	if err != nil {
		return nil, wrapOp("k8s.config", err)
	}
	if err := libkite.Check(thread, "k8s", permConfig, permConfig, ""); err != nil {
		return nil, err
	}
	c, err := m.newClient(ClientOptions{Context: ctxName, Namespace: ns, Kubeconfig: kubeconfig, Timeout: d})
	if err != nil {
		return nil, wrapOp("k8s.config", err)
	}
	return &clientValue{c: c}, nil
}
