package k8s

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clienttesting "k8s.io/client-go/testing"

	"github.com/project-starkite/starkite/libkite/kitetest"
)

// k8s.obj values through the k8s module: k8s.yaml, and apply/create on
// the fake client and on a real API server (which validates every
// top-level constructor's output and the CRD schema k8s.obj.crd builds).

func TestObjYAMLSpecExample(t *testing.T) {
	rt, out := kitetest.New(t, nil, New())
	err := rt.Execute(context.Background(), `
web = k8s.obj.deployment(
    name="web", labels={"app": "web"}, replicas=2,
    containers=[k8s.obj.container(name="web", image="nginx:1.27",
        ports=[k8s.obj.container_port(container_port=8080)])],
)
print(k8s.yaml([web, k8s.obj.service(name="web", selector={"app": "web"},
    ports=[k8s.obj.service_port(port=80, target_port=8080)])]))
`)
	if err != nil {
		t.Fatal(kitetest.ErrMsg(err))
	}
	want, err := os.ReadFile("obj/testdata/spec_example.yaml") // the obj package's golden
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != string(want) {
		t.Fatalf("k8s.yaml =\n%s\nwant\n%s", got, want)
	}
}

func TestObjYAMLAndCoercion(t *testing.T) {
	f := newFake(t)
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "single object", Expr: `k8s.yaml(k8s.obj.config_map(name="c", data={"k": "v"}))`,
			Want: "apiVersion: v1\ndata:\n    k: v\nkind: ConfigMap\nmetadata:\n    name: c\n"},
		{Name: "crd", Expr: `k8s.yaml(k8s.obj.crd("g.io", "v1", "W", "ws")).splitlines()[:4]`,
			Want: `["apiVersion: apiextensions.k8s.io/v1", "kind: CustomResourceDefinition", "metadata:", "    name: ws.g.io"]`},
		{Name: "sub-object", Expr: `k8s.yaml(k8s.obj.subject(kind="User", name="u"))`, Want: "kind: User\nname: u\n"},
		{Name: "object inside a dict manifest", Expr: `k8s.yaml({"items": [k8s.obj.env_var(name="A", value="1")]})`,
			Want: "items:\n    - name: A\n      value: \"1\"\n"},
	})
}

func TestObjApplyFake(t *testing.T) {
	f := newFake(t)
	run(t, f.runtime(t, nil), `
cm = k8s.obj.config_map(name="settings", labels={"app": "web"}, data={"mode": "prod"})
live = k8s.apply(cm)
eq(live["data"], {"mode": "prod"})
eq(k8s.get("cm", "settings")["metadata"]["labels"], {"app": "web"})

d = k8s.obj.deployment(name="web", namespace="team-b", labels={"app": "web"}, replicas=2,
    containers=[k8s.obj.container(name="web", image="nginx:1.27")])
k8s.create(d)
got = k8s.get("deploy", "web", namespace="team-b")
eq(got["spec"]["replicas"], 2)
eq(got["spec"]["selector"], {"matchLabels": {"app": "web"}})
eq(got["spec"]["template"]["spec"]["containers"], [{"image": "nginx:1.27", "name": "web"}])

# a list of objects and YAML
eq(len(k8s.apply([k8s.obj.config_map(name="a"), [k8s.obj.config_map(name="b")]])), 2)
eq(names(k8s.list("cm")), ["a", "b", "settings"])
`)
	// The apply patch body is the object's to_dict, as JSON.
	var patch []byte
	for _, a := range f.mutations() {
		if pa, ok := a.(clienttesting.PatchActionImpl); ok && pa.GetName() == "settings" {
			patch = pa.GetPatch()
		}
	}
	var body map[string]any
	if err := json.Unmarshal(patch, &body); err != nil {
		t.Fatalf("apply patch %q: %v", patch, err)
	}
	want := `{"apiVersion":"v1","data":{"mode":"prod"},"kind":"ConfigMap","metadata":{"labels":{"app":"web"},"name":"settings"}}`
	if got, _ := json.Marshal(body); string(got) != want {
		t.Fatalf("apply body = %s\nwant %s", got, want)
	}
}

func TestIntegrationObjApply(t *testing.T) {
	c := newCluster(t)
	group := "kite-obj-" + c.suffix + ".example.io"
	clusterName := "kite-obj-" + c.suffix
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for gvr, name := range map[schema.GroupVersionResource]string{
			{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}: "gizmo" + c.suffix + "s." + group,
			{Version: "v1", Resource: "namespaces"}:                                               clusterName,
			{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}:         clusterName,
			{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}:  clusterName,
		} {
			_ = c.admin.dyn.Resource(gvr).Delete(ctx, name, metav1.DeleteOptions{})
		}
	})
	run(t, c.runtime(t, nil), `
def subset(want, got, path):
    "Every field of want is in got with the same value (the server adds defaults)."
    if type(want) == "dict":
        eq(type(got), "dict", path)
        for k, v in want.items():
            if k not in got:
                fail("%s.%s: missing from the live object %r" % (path, k, got))
            subset(v, got[k], path + "." + k)
    elif type(want) == "list":
        eq(len(got), len(want), path + " length")
        for i in range(len(want)):
            subset(want[i], got[i], "%s[%d]" % (path, i))
    else:
        eq(got, want, path)

APP = {"app": "web"}
C = [k8s.obj.container(name="web", image="nginx:1.27",
        ports=[k8s.obj.container_port(container_port=8080, name="http")],
        env=[k8s.obj.env_var(name="MODE", value="prod")],
        env_from=[k8s.obj.env_from(config_map_ref={"name": "web-config"}, prefix="CFG_")],
        resources=k8s.obj.resource_requirements(requests={"cpu": "100m"}, limits={"memory": "64Mi"}),
        readiness_probe=k8s.obj.probe(http_get={"path": "/", "port": 8080}),
        liveness_probe=k8s.obj.probe(tcp_socket={"port": 8080}, initial_delay_seconds=3),
        volume_mounts=[k8s.obj.volume_mount(name="cfg", mount_path="/etc/web", read_only=True)],
        security_context=k8s.obj.security_context(run_as_non_root=True, run_as_user=1000, read_only_root=True))]
V = [k8s.obj.volume(name="cfg", config_map={"name": "web-config"})]
ONE = [k8s.obj.container(name="c", image="busybox", command=["true"])]
CLUSTER = "kite-obj-" + SUFFIX

namespaced = [
    k8s.obj.config_map(name="web-config", labels=APP, annotations={"note": "x"}, data={"mode": "prod"}),
    k8s.obj.secret(name="web-secret", data={"token": b"s3cret"}),
    k8s.obj.deployment(name="web", labels=APP, replicas=2, containers=C, volumes=V,
        tolerations=[k8s.obj.toleration(key="gpu", operator="Exists", effect="NoSchedule")],
        affinity=k8s.obj.affinity(node_affinity={"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]}}),
        node_selector={"kubernetes.io/arch": "amd64"}, service_account="bot", template_annotations={"rev": "1"}),
    k8s.obj.stateful_set(name="db", labels={"app": "db"}, service_name="db", containers=ONE,
        volume_claim_templates=[k8s.obj.persistent_volume_claim(name="data", access_modes=["ReadWriteOnce"], storage="1Gi")]),
    k8s.obj.daemon_set(name="agent", labels={"app": "agent"}, containers=ONE),
    k8s.obj.job(name="once", restart_policy="Never", containers=ONE),
    k8s.obj.cron_job(name="nightly", schedule="0 0 * * *", labels={"app": "nightly"}, restart_policy="OnFailure", containers=ONE),
    k8s.obj.pod(name="solo", labels=APP, containers=ONE, restart_policy="Never",
        init_containers=[k8s.obj.container(name="init", image="busybox")]),
    k8s.obj.service(name="web", selector=APP, ports=[k8s.obj.service_port(port=80, target_port="http", name="http")]),
    k8s.obj.ingress(name="web", rules=[k8s.obj.ingress_rule(host="web.example", paths={"paths": [
        k8s.obj.ingress_path(path="/", backend={"service": {"name": "web", "port": {"number": 80}}})]})]),
    k8s.obj.persistent_volume_claim(name="data", access_modes=["ReadWriteOnce"], storage="1Gi"),
    k8s.obj.service_account(name="bot", automount_service_account_token=False),
    k8s.obj.horizontal_pod_autoscaler(name="web", scale_target_ref={"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, max_replicas=5),
    k8s.obj.role(name="reader", rules=[k8s.obj.policy_rule(api_groups=[""], resources=["pods"], verbs=["get", "list"])]),
    k8s.obj.role_binding(name="reader", role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        subjects=[k8s.obj.subject(kind="ServiceAccount", name="bot", namespace=NS)]),
    k8s.obj.network_policy(name="deny", pod_selector={}, policy_types=["Ingress"]),
]
cluster = [
    k8s.obj.namespace(name=CLUSTER, labels={"suite": SUFFIX}),
    k8s.obj.cluster_role(name=CLUSTER, rules=[k8s.obj.policy_rule(api_groups=["apps"], resources=["deployments"], verbs=["get"])]),
    k8s.obj.cluster_role_binding(name=CLUSTER, role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": CLUSTER},
        subjects=[k8s.obj.subject(kind="User", name="jane", api_group="rbac.authorization.k8s.io")]),
]

for o in namespaced + cluster:
    k8s.apply(o, namespace=NS)
    want = o.to_dict()
    live = k8s.get(want["kind"], o.name, namespace=NS)
    subset(want, live, want["kind"])

d = k8s.get("deployment", "web", namespace=NS)
eq(d["spec"]["replicas"], 2)
eq(d["spec"]["selector"], {"matchLabels": APP})
eq(d["spec"]["template"]["metadata"], {"annotations": {"rev": "1"}, "labels": APP})
eq(d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"], True)
eq(k8s.get("secret", "web-secret", namespace=NS)["data"], {"token": "czNjcmV0"})
eq(k8s.get("cronjob", "nightly", namespace=NS)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"], "OnFailure")
eq(k8s.get("pvc", "data", namespace=NS)["spec"]["resources"]["requests"]["storage"], "1Gi")

# create takes them too; a YAML seed round-trips a live object
k8s.create(k8s.obj.config_map(name="created", data={"a": "b"}), namespace=NS)
eq(k8s.get("cm", "created", namespace=NS)["data"], {"a": "b"})
again = k8s.obj.deployment(k8s.yaml(d), replicas=3)
eq(k8s.apply(again, namespace=NS)["spec"]["replicas"], 3)
eq(k8s.get("deploy", "web", namespace=NS)["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.27")

# a CRD from k8s.obj.crd: the server accepts its schema, applies defaults
# and required fields, and serves the status subresource
KIND = "Gizmo" + SUFFIX
PLURAL = KIND.lower() + "s"
GROUP = "kite-obj-" + SUFFIX + ".example.io"
crd = k8s.obj.crd(GROUP, "v1", KIND, PLURAL,
    spec={"size": {"type": "integer", "required": True, "description": "how many"},
          "color": {"type": "string", "default": "blue", "enum": ["blue", "red"]},
          "tags": {"type": "array", "items": {"type": "string"}},
          "owner": {"type": "object", "properties": {"team": {"type": "string", "required": True}}}},
    status={"phase": {"type": "string"}})
live = k8s.apply(crd)
eq(live["metadata"]["name"], PLURAL + "." + GROUP)
subset(crd.to_dict()["spec"], live["spec"], "crd.spec")

def established():
    c = k8s.get("customresourcedefinitions", PLURAL + "." + GROUP)
    for cond in (c.get("status") or {}).get("conditions") or []:
        if cond["type"] == "Established" and cond["status"] == "True":
            return True
    return False

ok = False
for i in range(600):
    if established():
        ok = True
        break
    time.sleep("100ms")
eq(ok, True, "CRD established")
for i in range(600):
    if k8s.try_list(PLURAL, namespace=NS).ok:
        break
    time.sleep("100ms")

g = k8s.create({"apiVersion": GROUP + "/v1", "kind": KIND, "metadata": {"name": "g1"},
                "spec": {"size": 3, "tags": ["a"], "owner": {"team": "t"}}}, namespace=NS)
eq(g["spec"], {"color": "blue", "owner": {"team": "t"}, "size": 3, "tags": ["a"]}, "defaulted")
r = k8s.try_create({"apiVersion": GROUP + "/v1", "kind": KIND, "metadata": {"name": "g2"}, "spec": {"color": "red"}}, namespace=NS)
has(r.error, "spec.size: Required value")
r = k8s.try_create({"apiVersion": GROUP + "/v1", "kind": KIND, "metadata": {"name": "g3"}, "spec": {"size": 1, "color": "green"}}, namespace=NS)
has(r.error, "spec.color: Unsupported value")
eq(k8s.status(g, {"phase": "Ready"})["status"], {"phase": "Ready"})
`)
}
