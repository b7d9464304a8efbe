package k8s

import (
	"context"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// kindInfo is a resolved kind (spec §4): where its objects live and whether
// they are namespaced.
type kindInfo struct {
	GVR        schema.GroupVersionResource
	Kind       string // e.g. "Deployment"
	Namespaced bool
}

// builtinKinds is the table of spec §4 step 2: names that resolve without
// an API call. Every entry's lower-cased Kind is one of its names.
var builtinKinds = func() map[string]*kindInfo {
	m := map[string]*kindInfo{}
	add := func(group, version, resource, kind string, namespaced bool, names ...string) {
		ki := &kindInfo{GVR: schema.GroupVersionResource{Group: group, Version: version, Resource: resource}, Kind: kind, Namespaced: namespaced}
		for _, n := range append(names, resource, strings.ToLower(kind)) {
			m[n] = ki
		}
	}
	add("", "v1", "pods", "Pod", true)
	add("", "v1", "services", "Service", true, "svc")
	add("", "v1", "configmaps", "ConfigMap", true, "cm")
	add("", "v1", "secrets", "Secret", true)
	add("", "v1", "namespaces", "Namespace", false, "ns")
	add("", "v1", "nodes", "Node", false)
	add("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, "pvc")
	add("", "v1", "serviceaccounts", "ServiceAccount", true, "sa")
	add("", "v1", "events", "Event", true)
	add("apps", "v1", "deployments", "Deployment", true, "deploy")
	add("apps", "v1", "statefulsets", "StatefulSet", true, "sts")
	add("apps", "v1", "daemonsets", "DaemonSet", true, "ds")
	add("apps", "v1", "replicasets", "ReplicaSet", true, "rs")
	add("batch", "v1", "jobs", "Job", true)
	add("batch", "v1", "cronjobs", "CronJob", true)
	add("networking.k8s.io", "v1", "ingresses", "Ingress", true)
	add("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true)
	add("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, "hpa")
	add("rbac.authorization.k8s.io", "v1", "roles", "Role", true)
	add("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true)
	add("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false)
	add("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false)
	return m
}()

// unknownKind is the resolution failure of spec §4.
func unknownKind(kind string) error { return fmt.Errorf("unknown kind %q", kind) }

// resolveKind resolves a kind string (spec §4): qualified group/resource,
// the built-in table, the client's memo of earlier discovery hits, then
// discovery itself. Only successes are memoised, so a CRD created later
// in the same script resolves as soon as the server serves it.
func (c *Client) resolveKind(ctx context.Context, kind string) (*kindInfo, error) {
	key := strings.ToLower(strings.TrimSpace(kind))
	if key == "" {
		return nil, fmt.Errorf("kind is required")
	}
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		group, resource := key[:i], key[i+1:]
		for _, ki := range builtinKinds {
			if ki.GVR.Group == group && ki.GVR.Resource == resource {
				return ki, nil
			}
		}
		if ki := c.cached(key); ki != nil {
			return ki, nil
		}
		lists, err := c.preferredResources(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w (%v)", unknownKind(kind), err)
		}
		if ki := findResource(lists, func(gv schema.GroupVersion, r *metav1.APIResource) bool {
			return gv.Group == group && strings.EqualFold(r.Name, resource)
		}); ki != nil {
			return c.remember(key, ki), nil
		}
		return nil, unknownKind(kind)
	}
	if ki, ok := builtinKinds[key]; ok {
		return ki, nil
	}
	if ki := c.cached(key); ki != nil {
		return ki, nil
	}
	lists, err := c.preferredResources(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", unknownKind(kind), err)
	}
	if ki := matchDiscovered(lists, key, ""); ki != nil {
		return c.remember(key, ki), nil
	}
	return nil, unknownKind(kind)
}

// resolveManifestKind resolves the kind of a manifest object. The kind is
// resolved as for resolveKind, but the manifest's apiVersion routes the
// request (kite: the apiVersion group wins when a Kind exists in several
// groups, and the manifest's version is the one the object is sent as).
func (c *Client) resolveManifestKind(ctx context.Context, kind, apiVersion string) (*kindInfo, error) {
	if strings.TrimSpace(kind) == "" {
		return nil, fmt.Errorf("object has no kind")
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil || apiVersion == "" {
		return c.resolveKind(ctx, kind)
	}
	key := strings.ToLower(strings.TrimSpace(kind))
	ki, err := c.resolveKind(ctx, kind)
	if err == nil && ki.GVR.Group == gv.Group {
		return withVersion(ki, gv.Version), nil
	}
	// The kind is unknown, or known in another group: look for it in the
	// manifest's group.
	memo := gv.Group + "/" + key + "#kind"
	if hit := c.cached(memo); hit != nil {
		return withVersion(hit, gv.Version), nil
	}
	lists, derr := c.preferredResources(ctx)
	if derr != nil {
		if err != nil {
			return nil, err
		}
		return nil, derr
	}
	if hit := matchDiscovered(lists, key, gv.Group); hit != nil {
		return withVersion(c.remember(memo, hit), gv.Version), nil
	}
	if err != nil {
		return nil, err
	}
	return ki, nil // reference behaviour: route by kind alone
}

// withVersion returns ki served at version (the same resource in another
// version of its group).
func withVersion(ki *kindInfo, version string) *kindInfo {
	if version == "" || ki.GVR.Version == version {
		return ki
	}
	cp := *ki
	cp.GVR.Version = version
	return &cp
}

func (c *Client) cached(key string) *kindInfo {
	c.kindsMu.Lock()
	defer c.kindsMu.Unlock()
	return c.kinds[key]
}

func (c *Client) remember(key string, ki *kindInfo) *kindInfo {
	c.kindsMu.Lock()
	defer c.kindsMu.Unlock()
	if c.kinds == nil {
		c.kinds = map[string]*kindInfo{}
	}
	c.kinds[key] = ki
	return ki
}

// matchDiscovered finds key among discovered resources (restricted to
// group unless it is ""): first by plural name, Kind or singular name,
// then by short name, in discovery order.
func matchDiscovered(lists []*metav1.APIResourceList, key, group string) *kindInfo {
	inGroup := func(gv schema.GroupVersion) bool { return group == "" || gv.Group == group }
	if ki := findResource(lists, func(gv schema.GroupVersion, r *metav1.APIResource) bool {
		return inGroup(gv) && (strings.EqualFold(r.Name, key) || strings.EqualFold(r.Kind, key) || strings.EqualFold(r.SingularName, key))
	}); ki != nil {
		return ki
	}
	return findResource(lists, func(gv schema.GroupVersion, r *metav1.APIResource) bool {
		if !inGroup(gv) {
			return false
		}
		for _, s := range r.ShortNames {
			if strings.EqualFold(s, key) {
				return true
			}
		}
		return false
	})
}

// findResource returns the first resource (subresources skipped) for which
// match holds.
func findResource(lists []*metav1.APIResourceList, match func(schema.GroupVersion, *metav1.APIResource) bool) *kindInfo {
	for _, l := range lists {
		if l == nil {
			continue
		}
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for i := range l.APIResources {
			r := &l.APIResources[i]
			if strings.Contains(r.Name, "/") || !match(gv, r) {
				continue
			}
			g, v := gv.Group, gv.Version
			if r.Group != "" {
				g = r.Group
			}
			if r.Version != "" {
				v = r.Version
			}
			return &kindInfo{GVR: schema.GroupVersionResource{Group: g, Version: v, Resource: r.Name}, Kind: r.Kind, Namespaced: r.Namespaced}
		}
	}
	return nil
}

// preferredResources runs discovery (ServerPreferredResources). Partial
// failures are tolerated when some lists came back. Discovery has no
// context parameter, so the call runs aside and ctx ends the wait.
func (c *Client) preferredResources(ctx context.Context) ([]*metav1.APIResourceList, error) {
	type result struct {
		lists []*metav1.APIResourceList
		err   error
	}
	r, err := runAside(ctx, func() (result, error) {
		lists, err := discovery.ServerPreferredResources(c.disc)
		return result{lists, err}, nil
	})
	if err != nil {
		return nil, err
	}
	if r.err != nil && (!discovery.IsGroupDiscoveryFailedError(r.err) || len(r.lists) == 0) {
		return nil, fmt.Errorf("discovery: %w", r.err)
	}
	// Resources inside one list come back in map order: sort them so that
	// short-name ties and api_resources() are deterministic.
	for _, l := range r.lists {
		if l != nil {
			sort.SliceStable(l.APIResources, func(i, j int) bool { return l.APIResources[i].Name < l.APIResources[j].Name })
		}
	}
	return r.lists, nil
}
