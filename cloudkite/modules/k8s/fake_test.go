package k8s

import (
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/version"
	discfake "k8s.io/client-go/discovery/fake"
	dynfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// Test fixtures: a fake dynamic client and a fake discovery serving core
// v1, apps/v1, events.k8s.io/v1, autoscaling and a CRD group example.io.

var (
	gvrPods        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrConfigMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	gvrNamespaces  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	gvrDeployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrWidgets     = schema.GroupVersionResource{Group: "example.io", Version: "v1", Resource: "widgets"}
	gvrEventsV1    = schema.GroupVersionResource{Group: "events.k8s.io", Version: "v1", Resource: "events"}
)

func fakeResources() []*metav1.APIResourceList {
	verbs := metav1.Verbs{"create", "delete", "get", "list", "patch", "update", "watch"}
	return []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "pods", SingularName: "pod", Kind: "Pod", Namespaced: true, ShortNames: []string{"po"}, Verbs: verbs},
			{Name: "pods/status", Kind: "Pod", Namespaced: true, Verbs: metav1.Verbs{"get"}},
			{Name: "configmaps", SingularName: "configmap", Kind: "ConfigMap", Namespaced: true, ShortNames: []string{"cm"}, Verbs: verbs},
			{Name: "namespaces", SingularName: "namespace", Kind: "Namespace", ShortNames: []string{"ns"}, Verbs: verbs},
			{Name: "limitranges", SingularName: "limitrange", Kind: "LimitRange", Namespaced: true, ShortNames: []string{"limits"}, Verbs: verbs},
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			{Name: "deployments", SingularName: "deployment", Kind: "Deployment", Namespaced: true, ShortNames: []string{"deploy"}, Verbs: verbs},
		}},
		{GroupVersion: "events.k8s.io/v1", APIResources: []metav1.APIResource{
			{Name: "events", SingularName: "event", Kind: "Event", Namespaced: true, ShortNames: []string{"ev"}, Verbs: verbs},
		}},
		{GroupVersion: "example.io/v1", APIResources: []metav1.APIResource{
			{Name: "widgets", SingularName: "widget", Kind: "Widget", Namespaced: true, ShortNames: []string{"wg"}, Verbs: verbs},
			{Name: "clusterwidgets", SingularName: "clusterwidget", Kind: "ClusterWidget", ShortNames: []string{"cwg"}, Verbs: verbs},
		}},
	}
}

type fakeEnv struct {
	dyn    *dynfake.FakeDynamicClient
	disc   *discfake.FakeDiscovery
	client *Client
}

func obj(apiVersion, kind, ns, name string, extra map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name}}}
	if ns != "" {
		u.SetNamespace(ns)
	}
	for k, v := range extra {
		u.Object[k] = v
	}
	return u
}

func newFake(t testing.TB, objs ...runtime.Object) *fakeEnv {
	t.Helper()
	listKinds := map[schema.GroupVersionResource]string{
		gvrPods: "PodList", gvrConfigMaps: "ConfigMapList", gvrNamespaces: "NamespaceList",
		gvrDeployments: "DeploymentList", gvrWidgets: "WidgetList", gvrEventsV1: "EventList",
		{Group: "example.io", Version: "v1", Resource: "clusterwidgets"}: "ClusterWidgetList",
	}
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objs...)
	// Server-side apply emulated as create-or-replace (the fake tracker
	// only patches existing objects), strategic merge as JSON merge.
	dyn.PrependReactor("patch", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		pa := a.(clienttesting.PatchActionImpl)
		if pa.GetPatchType() == types.StrategicMergePatchType {
			// The tracker cannot strategic-merge unstructured objects:
			// merge instead.
			pa.PatchType = types.MergePatchType
			return clienttesting.ObjectReaction(dyn.Tracker())(pa)
		}
		if pa.GetPatchType() != types.ApplyPatchType {
			return false, nil, nil
		}
		u := &unstructured.Unstructured{}
		if err := json.Unmarshal(pa.GetPatch(), &u.Object); err != nil {
			return true, nil, err
		}
		if u.GetNamespace() == "" && pa.GetNamespace() != "" {
			u.SetNamespace(pa.GetNamespace())
		}
		tr := dyn.Tracker()
		if _, err := tr.Get(pa.GetResource(), pa.GetNamespace(), pa.GetName()); err == nil {
			return true, u, tr.Update(pa.GetResource(), u, pa.GetNamespace())
		}
		return true, u, tr.Create(pa.GetResource(), u, pa.GetNamespace())
	})
	disc := &discfake.FakeDiscovery{Fake: &clienttesting.Fake{Resources: fakeResources()},
		FakedServerVersion: &version.Info{Major: "1", Minor: "36", GitVersion: "v1.36.3", Platform: "linux/amd64"}}
	return &fakeEnv{dyn: dyn, disc: disc, client: NewClientFromInterfaces(dyn, disc, nil, "fake-ctx", "team-a", 0)}
}

// factory builds the default client (all options empty) as f.client and
// k8s.config clients over the same fakes.
func (f *fakeEnv) factory(o ClientOptions) (*Client, error) {
	if o == (ClientOptions{}) {
		return f.client, nil
	}
	ctx := o.Context
	if ctx == "" {
		ctx = "fake-ctx"
	}
	return NewClientFromInterfaces(f.dyn, f.disc, nil, ctx, o.Namespace, o.Timeout), nil
}

func (f *fakeEnv) runtime(t testing.TB, cfg *libkite.Config) *libkite.Runtime {
	t.Helper()
	rt, _ := kitetest.New(t, cfg, NewWithClientFactory(f.factory))
	return rt
}

// with is the maker of fresh runtimes under cfg that kitetest.RunCases takes.
func (f *fakeEnv) with(cfg *libkite.Config) func(testing.TB) *libkite.Runtime {
	return func(t testing.TB) *libkite.Runtime { return f.runtime(t, cfg) }
}

func (f *fakeEnv) eval(t testing.TB, cfg *libkite.Config, pre, expr string) (string, string, error) {
	t.Helper()
	return kitetest.Eval(f.runtime(t, cfg), pre, expr)
}

// mutations are the recorded dynamic-client actions other than get/list/watch.
func (f *fakeEnv) mutations() []clienttesting.Action {
	var out []clienttesting.Action
	for _, a := range f.dyn.Actions() {
		switch a.GetVerb() {
		case "get", "list", "watch":
			continue
		}
		out = append(out, a)
	}
	return out
}
