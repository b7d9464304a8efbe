package obj

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.yaml")

// testModule is a "k8s" module holding obj and a yaml builtin that
// renders like k8s.yaml (spec §11), so scripts read as they do in kite.
func testModule() libkite.Module {
	return &libkite.StaticModule{ID: "k8s", Build: func() starlark.StringDict {
		return starlark.StringDict{
			"obj":  Namespace(),
			"yaml": starlark.NewBuiltin("k8s.yaml", renderYAML),
		}
	}}
}

func renderYAML(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	doc := func(v starlark.Value) (starlark.Value, error) {
		m, ok := v.(interface {
			K8sObject() (map[string]any, error)
		})
		if !ok {
			return v, nil
		}
		g, err := m.K8sObject()
		if err != nil {
			return nil, err
		}
		return attrOpts.ToStarlark(g)
	}
	if l, ok := v.(*starlark.List); ok {
		docs := make([]starlark.Value, l.Len())
		for i := range docs {
			d, err := doc(l.Index(i))
			if err != nil {
				return nil, err
			}
			docs[i] = d
		}
		s, err := yaml.EncodeAll(docs)
		return starlark.String(s), err
	}
	d, err := doc(v)
	if err != nil {
		return nil, err
	}
	s, err := yaml.Encode(d)
	return starlark.String(s), err
}

var kit = kitetest.Modules{testModule}

// goldenCases build one value per constructor; testdata/golden/<name>.yaml
// holds its k8s.yaml rendering.
var goldenCases = []struct{ name, expr string }{
	{"pod", `k8s.obj.pod(name="p", namespace="ns", labels={"app": "p"}, annotations={"a": "b"},
		containers=[k8s.obj.container(name="c", image="busybox", command=["sleep", "1"])],
		init_containers=[{"name": "init", "image": "busybox"}],
		volumes=[k8s.obj.volume(name="v", empty_dir={})], node_selector={"disk": "ssd"},
		tolerations=[k8s.obj.toleration(key="k", effect="NoSchedule")],
		affinity=k8s.obj.affinity(node_affinity={"x": 1}), service_account="sa",
		host_network=True, dns_policy="ClusterFirst", security_context=k8s.obj.security_context(run_as_user=1000))`},
	{"deployment", `k8s.obj.deployment(name="web", labels={"app": "web"}, replicas=2,
		strategy={"type": "Recreate"}, min_ready_seconds=5, revision_history=3,
		containers=[k8s.obj.container(name="web", image="nginx:1.27",
			ports=[k8s.obj.container_port(container_port=8080)])])`},
	{"stateful_set", `k8s.obj.stateful_set(name="db", labels={"app": "db"}, service_name="db",
		pod_management_policy="Parallel", template_labels={"app": "db", "tier": "data"},
		template_annotations={"note": "x"},
		volume_claim_templates=[k8s.obj.persistent_volume_claim(name="data", storage="1Gi", access_modes=["ReadWriteOnce"])],
		containers=[k8s.obj.container(name="db", image="postgres")])`},
	{"daemon_set", `k8s.obj.daemon_set(name="agent", labels={"app": "agent"}, update_strategy={"type": "OnDelete"},
		min_ready_seconds=1, host_network=True, containers=[k8s.obj.container(name="a", image="agent")])`},
	{"job", `k8s.obj.job(name="once", completions=1, parallelism=1, active_deadline=60, ttl_after_finished=30,
		restart_policy="Never", containers=[k8s.obj.container(name="j", image="busybox")])`},
	{"cron_job", `k8s.obj.cron_job(name="nightly", schedule="0 0 * * *", suspend=False, history_limit=3,
		failed_history=1, labels={"app": "nightly"}, restart_policy="OnFailure",
		containers=[k8s.obj.container(name="n", image="busybox")])`},
	{"service", `k8s.obj.service(name="web", selector={"app": "web"}, cluster_ip="None",
		external_ips=["1.2.3.4"], session_affinity="ClientIP",
		ports=[k8s.obj.service_port(port=80, target_port=8080, name="http"), {"port": 443}])`},
	{"ingress", `k8s.obj.ingress(name="web", ingress_class_name="nginx", tls=[{"hosts": ["a.example"]}],
		default_backend={"service": {"name": "web", "port": {"number": 80}}},
		rules=[k8s.obj.ingress_rule(host="a.example", paths={"paths": [
			k8s.obj.ingress_path(path="/", backend={"service": {"name": "web", "port": {"number": 80}}})]})])`},
	{"config_map", `k8s.obj.config_map(name="settings", namespace="ns", data={"k": "v"}, binary_data={"b": b"hi"}, immutable=True)`},
	{"secret", `k8s.obj.secret(name="creds", data={"p": "cGFzcw=="}, string_data={"u": "admin"})`},
	{"namespace", `k8s.obj.namespace(name="team-a", labels={"team": "a"})`},
	{"persistent_volume_claim", `k8s.obj.persistent_volume_claim(name="data", access_modes=["ReadWriteOnce"],
		storage="5Gi", storage_class="fast", volume_mode="Filesystem")`},
	{"service_account", `k8s.obj.service_account(name="bot", secrets=[{"name": "s"}],
		image_pull_secrets=[{"name": "reg"}], automount_service_account_token=False)`},
	{"horizontal_pod_autoscaler", `k8s.obj.horizontal_pod_autoscaler(name="web",
		scale_target_ref={"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, max_replicas=5,
		metrics=[{"type": "Resource"}])`},
	{"role", `k8s.obj.role(name="reader", rules=[k8s.obj.policy_rule(api_groups=[""], resources=["pods"], verbs=["get", "list"])])`},
	{"cluster_role", `k8s.obj.cluster_role(name="agg", rules=[], aggregation_rule={"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]})`},
	{"role_binding", `k8s.obj.role_binding(name="rb", role_ref={"kind": "Role", "name": "reader", "apiGroup": "rbac.authorization.k8s.io"},
		subjects=[k8s.obj.subject(kind="ServiceAccount", name="bot", namespace="ns")])`},
	{"cluster_role_binding", `k8s.obj.cluster_role_binding(name="crb", role_ref={"kind": "ClusterRole", "name": "view"},
		subjects=[k8s.obj.subject(kind="User", name="jane", api_group="rbac.authorization.k8s.io")])`},
	{"network_policy", `k8s.obj.network_policy(name="deny", pod_selector={}, policy_types=["Ingress", "Egress"],
		ingress=[{"from": [{"podSelector": {}}]}], egress=[])`},
	{"pod_spec", `k8s.obj.pod_spec(containers=[k8s.obj.container(name="c", image="i")], service_account="sa")`},
	{"pod_template", `k8s.obj.pod_template(labels={"app": "x"}, annotations={"a": "b"},
		containers=[k8s.obj.container(name="c", image="i")], restart_policy="Never")`},
	{"container", `k8s.obj.container(name="web", image="nginx", command=["nginx"], args=["-g", "daemon off;"],
		ports=[k8s.obj.container_port(container_port=80, name="http")],
		env=[k8s.obj.env_var(name="A", value="1")],
		env_from=[k8s.obj.env_from(config_map_ref={"name": "cm"})],
		volume_mounts=[k8s.obj.volume_mount(name="v", mount_path="/data")],
		resources=k8s.obj.resource_requirements(limits={"cpu": "1"}),
		liveness_probe=k8s.obj.probe(http_get={"path": "/healthz", "port": 80}),
		readiness_probe={"tcpSocket": {"port": 80}},
		startup_probe=k8s.obj.probe(exec={"command": ["true"]}, failure_threshold=30),
		working_dir="/srv", image_pull_policy="IfNotPresent",
		security_context=k8s.obj.security_context(privileged=False))`},
	{"container_port", `k8s.obj.container_port(container_port=53, name="dns", protocol="UDP", host_port=53)`},
	{"volume", `k8s.obj.volume(name="v", config_map={"name": "cm"}, secret={"secretName": "s"},
		pvc={"claimName": "data"}, host_path={"path": "/tmp"}, empty_dir={"medium": "Memory"})`},
	{"volume_mount", `k8s.obj.volume_mount(name="v", mount_path="/data", sub_path="x", read_only=True)`},
	{"env_var", `k8s.obj.env_var(name="POD", value_from={"fieldRef": {"fieldPath": "metadata.name"}})`},
	{"env_from", `k8s.obj.env_from(secret_ref={"name": "s"}, prefix="S_")`},
	{"resource_requirements", `k8s.obj.resource_requirements(requests={"cpu": "100m", "memory": "64Mi"}, limits={"memory": "128Mi"})`},
	{"probe", `k8s.obj.probe(tcp_socket={"port": 5432}, initial_delay_seconds=5)`},
	{"service_port", `k8s.obj.service_port(port=80, target_port="http", node_port=30080)`},
	{"ingress_rule", `k8s.obj.ingress_rule(host="h", paths={"paths": [{"path": "/", "pathType": "Exact", "backend": {}}]})`},
	{"ingress_path", `k8s.obj.ingress_path(path="/api", backend={"service": {"name": "api", "port": {"name": "http"}}})`},
	{"toleration", `k8s.obj.toleration(key="gpu", operator="Exists", effect="NoSchedule", toleration_seconds=60)`},
	{"affinity", `k8s.obj.affinity(pod_affinity={"a": 1}, pod_anti_affinity={"b": 2})`},
	{"policy_rule", `k8s.obj.policy_rule(api_groups=["apps"], resources=["deployments"], verbs=["*"])`},
	{"subject", `k8s.obj.subject(kind="Group", name="devs")`},
	{"security_context", `k8s.obj.security_context(run_as_user=1000, run_as_group=3000, run_as_non_root=True,
		read_only_root=True, privileged=False, capabilities={"drop": ["ALL"]})`},
	{"crd", `k8s.obj.crd("example.io", "v1", "Widget", "widgets",
		spec={"size": {"type": "integer", "required": True, "default": 1, "description": "how many"},
		      "name": {"type": "string", "required": True},
		      "tags": {"type": "array", "items": {"type": "string"}},
		      "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
		      "owner": {"type": "object", "required": False, "properties": {
		          "team": {"type": "string", "required": True}, "email": {"type": "string", "enum": ["a", "b"]}}}},
		status={"phase": {"type": "string"}, "ready": {"type": "boolean", "required": True}})`},
}

func TestGoldenEveryConstructor(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range goldenCases {
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			got, msg, _ := kit.Eval(t, nil, "", "k8s.yaml("+c.expr+")")
			if msg != "" {
				t.Fatal(msg)
			}
			path := filepath.Join("testdata", "golden", c.name+".yaml")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("k8s.yaml =\n%s\nwant (%s)\n%s", got, path, want)
			}
		})
	}
	ns := Namespace().(*starlarkstruct.Module)
	if len(ns.Members) != 38 {
		t.Errorf("k8s.obj has %d members, want 38", len(ns.Members))
	}
	for name := range ns.Members {
		if !seen[name] {
			t.Errorf("no golden case for k8s.obj.%s", name)
		}
	}
}

// TestTypeNames pins the type of every constructor's value:
// "k8s.obj." + the constructor name without underscores.
func TestTypeNames(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			got, msg, _ := kit.Eval(t, nil, "", "type("+c.expr+")")
			if want := "k8s.obj." + strings.ReplaceAll(c.name, "_", ""); got != want || msg != "" {
				t.Fatalf("type = %q (%s), want %q", got, msg, want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "pod restart_policy", Expr: `k8s.obj.pod(name="p", containers=[]).to_dict()["spec"]["restartPolicy"]`, Want: "Always"},
		{Name: "deployment replicas", Expr: `k8s.obj.deployment(name="d").to_dict()["spec"]`, Want: `{"replicas": 1}`},
		{Name: "stateful_set replicas", Expr: `k8s.obj.stateful_set(name="d").replicas`, Want: "1"},
		{Name: "daemon_set none: spec omitted", Expr: `k8s.obj.daemon_set(name="d").to_dict()`, Want: `{"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "d"}}`},
		{Name: "job backoff_limit", Expr: `k8s.obj.job(name="j").to_dict()["spec"]`, Want: `{"backoffLimit": 6}`},
		{Name: "cron_job concurrency_policy", Expr: `k8s.obj.cron_job(name="c", schedule="@daily").to_dict()["spec"]`, Want: `{"concurrencyPolicy": "Allow", "schedule": "@daily"}`},
		{Name: "service type", Expr: `k8s.obj.service(name="s").to_dict()["spec"]`, Want: `{"type": "ClusterIP"}`},
		{Name: "secret type", Expr: `k8s.obj.secret(name="s").to_dict()`, Want: `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque"}`},
		{Name: "hpa min_replicas", Expr: `k8s.obj.horizontal_pod_autoscaler(name="h", scale_target_ref={}, max_replicas=3).to_dict()["spec"]`, Want: `{"maxReplicas": 3, "minReplicas": 1, "scaleTargetRef": {}}`},
		{Name: "pod_spec restart_policy", Expr: `k8s.obj.pod_spec(containers=[]).to_dict()`, Want: `{"containers": [], "restartPolicy": "Always"}`},
		{Name: "pod_template has none", Expr: `k8s.obj.pod_template(containers=[]).to_dict()`, Want: `{"metadata": {}, "spec": {"containers": []}}`},
		{Name: "container_port protocol", Expr: `k8s.obj.container_port(container_port=80).to_dict()`, Want: `{"containerPort": 80, "protocol": "TCP"}`},
		{Name: "probe thresholds", Expr: `k8s.obj.probe().to_dict()`, Want: `{"failureThreshold": 3, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1}`},
		{Name: "service_port protocol", Expr: `k8s.obj.service_port(port=80).to_dict()`, Want: `{"port": 80, "protocol": "TCP"}`},
		{Name: "ingress_path path_type", Expr: `k8s.obj.ingress_path(path="/", backend={}).to_dict()`, Want: `{"backend": {}, "path": "/", "pathType": "Prefix"}`},
		{Name: "toleration operator", Expr: `k8s.obj.toleration().to_dict()`, Want: `{"operator": "Equal"}`},
		{Name: "empty sub-object", Expr: `k8s.obj.affinity().to_dict()`, Want: `{}`},
		{Name: "given value beats default", Expr: `k8s.obj.deployment(name="d", replicas=0).to_dict()["spec"]`, Want: `{"replicas": 0}`},
		{Name: "None is unset, default applies", Expr: `k8s.obj.service(name="s", type=None).type`, Want: "ClusterIP"},
		{Name: "seed value beats default", Expr: `k8s.obj.service({"metadata": {"name": "s"}, "spec": {"type": "NodePort"}}).type`, Want: "NodePort"},
		{Name: "namespace has no namespace field", Expr: `k8s.obj.namespace(name="n", namespace="x")`, Err: `k8s.obj.namespace: unknown field "namespace"`},
		{Name: "pvc storage ignored when resources set", Expr: `k8s.obj.persistent_volume_claim(name="p", storage="1Gi", resources={"requests": {"storage": "2Gi"}}).to_dict()["spec"]`, Want: `{"resources": {"requests": {"storage": "2Gi"}}}`},
		{Name: "pvc storage int", Expr: `k8s.obj.persistent_volume_claim(name="p", storage=1024).to_dict()["spec"]`, Want: `{"resources": {"requests": {"storage": 1024}}}`},
		{Name: "pvc resources object", Expr: `k8s.obj.persistent_volume_claim(name="p", resources=k8s.obj.resource_requirements(requests={"storage": "3Gi"})).to_dict()["spec"]`, Want: `{"resources": {"requests": {"storage": "3Gi"}}}`},
	})
}

func TestWorkloadFlattening(t *testing.T) {
	const c = `C = [k8s.obj.container(name="c", image="i")]`
	tmpl := func(labels string) string {
		return `{"metadata": {` + labels + `}, "spec": {"containers": [{"image": "i", "name": "c"}]}}`
	}
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "deployment", Pre: c, Expr: `k8s.obj.deployment(name="d", labels={"app": "d"}, containers=C).to_dict()["spec"]`,
			Want: `{"replicas": 1, "selector": {"matchLabels": {"app": "d"}}, "template": ` + tmpl(`"labels": {"app": "d"}`) + `}`},
		{Name: "stateful_set", Pre: c, Expr: `k8s.obj.stateful_set(name="d", labels={"app": "d"}, containers=C).to_dict()["spec"]`,
			Want: `{"replicas": 1, "selector": {"matchLabels": {"app": "d"}}, "template": ` + tmpl(`"labels": {"app": "d"}`) + `}`},
		{Name: "daemon_set", Pre: c, Expr: `k8s.obj.daemon_set(name="d", labels={"app": "d"}, containers=C).to_dict()["spec"]`,
			Want: `{"selector": {"matchLabels": {"app": "d"}}, "template": ` + tmpl(`"labels": {"app": "d"}`) + `}`},
		{Name: "job has no selector", Pre: c, Expr: `k8s.obj.job(name="d", labels={"app": "d"}, containers=C).to_dict()["spec"]`,
			Want: `{"backoffLimit": 6, "template": ` + tmpl(`"labels": {"app": "d"}`) + `}`},
		{Name: "cron_job jobTemplate.spec.template", Pre: c, Expr: `k8s.obj.cron_job(name="d", schedule="* * * * *", labels={"app": "d"}, containers=C).to_dict()["spec"]`,
			Want: `{"concurrencyPolicy": "Allow", "jobTemplate": {"spec": {"template": ` + tmpl(`"labels": {"app": "d"}`) + `}}, "schedule": "* * * * *"}`},
		{Name: "template_labels win over labels", Pre: c, Expr: `k8s.obj.deployment(name="d", labels={"app": "d"}, template_labels={"app": "t"}, template_annotations={"x": "y"}, containers=C).to_dict()["spec"]`,
			Want: `{"replicas": 1, "selector": {"matchLabels": {"app": "t"}}, "template": ` + tmpl(`"annotations": {"x": "y"}, "labels": {"app": "t"}`) + `}`},
		{Name: "given selector kept", Pre: c, Expr: `k8s.obj.deployment(name="d", labels={"app": "d"}, selector={"matchLabels": {"k": "v"}}, containers=C).to_dict()["spec"]["selector"]`,
			Want: `{"matchLabels": {"k": "v"}}`},
		{Name: "no labels: no selector", Pre: c, Expr: `k8s.obj.deployment(name="d", containers=C).to_dict()["spec"]`,
			Want: `{"replicas": 1, "template": ` + tmpl(``) + `}`},
		{Name: "every pod field", Pre: c, Expr: `k8s.obj.deployment(name="d", containers=C, init_containers=C, volumes=[{"name": "v"}],
			restart_policy="Always", node_selector={"n": "1"}, tolerations=[{"key": "k"}], affinity={"nodeAffinity": {}},
			service_account="sa", host_network=False, dns_policy="Default", security_context={"runAsUser": 1}).to_dict()["spec"]["template"]["spec"]`,
			Want: `{"affinity": {"nodeAffinity": {}}, "containers": [{"image": "i", "name": "c"}], "dnsPolicy": "Default", "hostNetwork": False, "initContainers": [{"image": "i", "name": "c"}], "nodeSelector": {"n": "1"}, "restartPolicy": "Always", "securityContext": {"runAsUser": 1}, "serviceAccountName": "sa", "tolerations": [{"key": "k"}], "volumes": [{"name": "v"}]}`},
		{Name: "pod fields stay attributes", Pre: c, Expr: `k8s.obj.deployment(name="d", containers=C, service_account="sa").service_account`, Want: "sa"},
		{Name: "generated template is an attribute", Pre: c, Expr: `k8s.obj.job(name="d", containers=C).template["spec"]["containers"][0].image`, Want: "i"},
		{Name: "containers and template", Pre: c, Expr: `k8s.obj.deployment(name="d", containers=C, template=k8s.obj.pod_template(containers=C))`,
			Err: `k8s.obj.deployment: cannot specify both "containers" and "template"`},
		{Name: "containers and job_template", Pre: c, Expr: `k8s.obj.cron_job(name="d", schedule="x", containers=C, job_template={})`,
			Err: `k8s.obj.cron_job: cannot specify both "containers" and "job_template"`},
		{Name: "pod field without containers", Expr: `k8s.obj.deployment(name="d", service_account="sa")`,
			Err: `k8s.obj.deployment: field "service_account" needs "containers" (pod fields build the pod template)`},
		{Name: "explicit template", Pre: c, Expr: `k8s.obj.deployment(name="d", selector={"matchLabels": {"a": "b"}}, template=k8s.obj.pod_template(labels={"a": "b"}, containers=C)).to_dict()["spec"]`,
			Want: `{"replicas": 1, "selector": {"matchLabels": {"a": "b"}}, "template": ` + tmpl(`"labels": {"a": "b"}`) + `}`},
		{Name: "keyword containers replace a seed template", Pre: c,
			Expr: `k8s.obj.deployment({"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": []}}}}, containers=C).to_dict()["spec"]["template"]`,
			Want: tmpl(``)},
		{Name: "required checked after flattening", Pre: c, Expr: `k8s.obj.cron_job(name="d", containers=C)`,
			Err: `k8s.obj.cron_job: missing required field "schedule"`},
	})
}

func TestSeed(t *testing.T) {
	const deployYAML = `D = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
  labels: {app: web}
  annotations: {note: n}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
status: {ready: 1}
"""`
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "YAML round trip", Pre: deployYAML, Expr: `k8s.obj.deployment(D).to_dict()`,
			Want: `{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"annotations": {"note": "n"}, "labels": {"app": "web"}, "name": "web", "namespace": "prod"}, "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"image": "nginx", "name": "web"}]}}}}`},
		{Name: "kwargs override YAML seed", Pre: deployYAML, Expr: `str(k8s.obj.deployment(D, name="api", replicas=5))`,
			Want: `<deployment name="api" namespace="prod" replicas=5>`},
		{Name: "dict seed, kwargs override", Expr: `k8s.obj.config_map({"metadata": {"name": "a", "labels": {"x": "1"}}, "data": {"k": "v"}}, data={"k2": "v2"}).to_dict()`,
			Want: `{"apiVersion": "v1", "data": {"k2": "v2"}, "kind": "ConfigMap", "metadata": {"labels": {"x": "1"}, "name": "a"}}`},
		{Name: "dict seed top-level fields", Expr: `k8s.obj.role_binding({"metadata": {"name": "rb"}, "roleRef": {"name": "r"}, "subjects": []}).to_dict()`,
			Want: `{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "rb"}, "roleRef": {"name": "r"}, "subjects": []}`},
		{Name: "sub-object seed by JSON key", Expr: `k8s.obj.container({"name": "c", "image": "i", "imagePullPolicy": "Always", "bogus": 1}, image="j").to_dict()`,
			Want: `{"image": "j", "imagePullPolicy": "Always", "name": "c"}`},
		{Name: "sub-object YAML seed", Expr: `k8s.obj.service_port("port: 80\ntargetPort: web\n").to_dict()`,
			Want: `{"port": 80, "protocol": "TCP", "targetPort": "web"}`},
		{Name: "ingress_rule seed reads http", Expr: `k8s.obj.ingress_rule({"host": "h", "http": {"paths": []}}).paths`, Want: `{"paths": []}`},
		{Name: "pod_template seed from metadata and spec", Expr: `k8s.obj.pod_template({"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}}).to_dict()`,
			Want: `{"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}}`},
		{Name: "seed satisfies required", Expr: `k8s.obj.pod({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}).name`, Want: "p"},
		{Name: "None seed", Expr: `k8s.obj.namespace(None, name="n").name`, Want: "n"},
		{Name: "keyword None unsets a seed value", Expr: `k8s.obj.service({"metadata": {"name": "s", "namespace": "x"}}, namespace=None).namespace`, Want: "None"},
		{Name: "seed with k8s.obj values inside", Expr: `k8s.obj.pod({"metadata": {"name": "p"}, "spec": {"containers": [k8s.obj.container(name="c", image="i")]}}).to_dict()["spec"]["containers"]`,
			Want: `[{"image": "i", "name": "c"}]`},
		{Name: "seed type error", Expr: `k8s.obj.deployment("metadata: {name: d}\nspec: {replicas: three}\n")`,
			Err: `k8s.obj.deployment: seed field "replicas": expected int, got string`},
		{Name: "seed of wrong type", Expr: `k8s.obj.pod(42)`, Err: `k8s.obj.pod: seed must be a YAML string or dict, got int`},
		{Name: "YAML seed not a mapping", Expr: `k8s.obj.pod("- a\n- b\n")`, Err: `k8s.obj.pod: seed must be a mapping, got list`},
		{Name: "bad YAML seed", Expr: `k8s.obj.pod("a: [")`, Err: "k8s.obj.pod: seed: ", ErrContains: true},
		{Name: "more than one positional", Expr: `k8s.obj.pod({}, {})`, Err: `k8s.obj.pod: got 2 positional arguments, want at most 1 (seed)`},
	})
}

func TestFieldErrors(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "unknown field", Expr: `k8s.obj.deployment(name="d", replica=2)`, Err: `k8s.obj.deployment: unknown field "replica"`},
		{Name: "unknown field sub-object", Expr: `k8s.obj.container_port(port=80)`, Err: `k8s.obj.container_port: unknown field "port"`},
		{Name: "missing name", Expr: `k8s.obj.config_map(data={})`, Err: `k8s.obj.config_map: missing required field "name"`},
		{Name: "missing containers", Expr: `k8s.obj.pod(name="p")`, Err: `k8s.obj.pod: missing required field "containers"`},
		{Name: "missing first of several", Expr: `k8s.obj.policy_rule(verbs=["get"])`, Err: `k8s.obj.policy_rule: missing required field "api_groups"`},
		{Name: "hpa max_replicas", Expr: `k8s.obj.horizontal_pod_autoscaler(name="h", scale_target_ref={})`, Err: `k8s.obj.horizontal_pod_autoscaler: missing required field "max_replicas"`},
		{Name: "role_ref", Expr: `k8s.obj.cluster_role_binding(name="b")`, Err: `k8s.obj.cluster_role_binding: missing required field "role_ref"`},
		{Name: "ingress_path backend", Expr: `k8s.obj.ingress_path(path="/")`, Err: `k8s.obj.ingress_path: missing required field "backend"`},
		{Name: "string", Expr: `k8s.obj.container(name="c", image=1)`, Err: `k8s.obj.container: field "image": expected string, got int`},
		{Name: "int", Expr: `k8s.obj.deployment(name="d", replicas="3")`, Err: `k8s.obj.deployment: field "replicas": expected int, got string`},
		{Name: "int not bool", Expr: `k8s.obj.deployment(name="d", replicas=True)`, Err: `k8s.obj.deployment: field "replicas": expected int, got bool`},
		{Name: "int not float", Expr: `k8s.obj.deployment(name="d", replicas=1.0)`, Err: `k8s.obj.deployment: field "replicas": expected int, got float`},
		{Name: "bool", Expr: `k8s.obj.config_map(name="c", immutable="yes")`, Err: `k8s.obj.config_map: field "immutable": expected bool, got string`},
		{Name: "dict", Expr: `k8s.obj.config_map(name="c", labels=["a"])`, Err: `k8s.obj.config_map: field "labels": expected dict, got list`},
		{Name: "dict not object", Expr: `k8s.obj.service(name="s", selector=k8s.obj.affinity())`, Err: `k8s.obj.service: field "selector": expected dict, got k8s.obj.affinity`},
		{Name: "list", Expr: `k8s.obj.pod(name="p", containers={})`, Err: `k8s.obj.pod: field "containers": expected list, got dict`},
		{Name: "tuple is a list", Expr: `k8s.obj.policy_rule(api_groups=("",), resources=("pods",), verbs=("get",)).verbs`, Want: `["get"]`},
		{Name: "object", Expr: `k8s.obj.container(name="c", image="i", resources="1")`, Err: `k8s.obj.container: field "resources": expected k8s.obj.resourcerequirements or dict, got string`},
		{Name: "object of the wrong constructor", Expr: `k8s.obj.deployment(name="d", template=k8s.obj.pod(name="p", containers=[]))`,
			Err: `k8s.obj.deployment: field "template": expected k8s.obj.podtemplate or dict, got k8s.obj.pod`},
		{Name: "any object", Expr: `k8s.obj.cron_job(name="c", schedule="s", job_template=1)`, Err: `k8s.obj.cron_job: field "job_template": expected k8s.obj value or dict, got int`},
		{Name: "list item of the wrong constructor", Expr: `k8s.obj.pod(name="p", containers=[k8s.obj.volume(name="v")])`,
			Err: `k8s.obj.pod: field "containers": item 0: expected k8s.obj.container or dict, got k8s.obj.volume`},
		{Name: "int or string", Expr: `k8s.obj.service_port(port=80, target_port=[])`, Err: `k8s.obj.service_port: field "target_port": expected int or string, got list`},
		{Name: "non-string dict key", Expr: `k8s.obj.config_map(name="c", data={1: "a"})`, Err: `k8s.obj.config_map: field "data": dict key must be string, got int`},
		{Name: "non-data value", Expr: `k8s.obj.config_map(name="c", data={"f": len})`, Err: `k8s.obj.config_map: field "data": key "f": unsupported type: builtin_function_or_method`},
		{Name: "self-containing list", Pre: "l = []\nl.append(l)", Expr: `k8s.obj.pod(name="p", containers=l)`, Err: `value nested too deeply`, ErrContains: true},
	})
}

func TestNestedObjects(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "in dict field", Expr: `k8s.obj.ingress_rule(paths={"paths": [k8s.obj.ingress_path(path="/", backend={})]}).to_dict()`,
			Want: `{"http": {"paths": [{"backend": {}, "path": "/", "pathType": "Prefix"}]}}`},
		{Name: "deep in a dict", Expr: `k8s.obj.config_map(name="c", data={"a": {"b": [k8s.obj.subject(kind="User", name="u")]}}).to_dict()["data"]`,
			Want: `{"a": {"b": [{"kind": "User", "name": "u"}]}}`},
		{Name: "object field", Expr: `k8s.obj.container(name="c", image="i", liveness_probe=k8s.obj.probe(period_seconds=5)).to_dict()["livenessProbe"]`,
			Want: `{"failureThreshold": 3, "periodSeconds": 5, "successThreshold": 1, "timeoutSeconds": 1}`},
		{Name: "top-level kind in a list", Expr: `k8s.obj.stateful_set(name="s", volume_claim_templates=[k8s.obj.persistent_volume_claim(name="d", storage="1Gi")]).to_dict()["spec"]["volumeClaimTemplates"]`,
			Want: `[{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "d"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}}]`},
		{Name: "attribute keeps k8s.obj values", Expr: `k8s.obj.pod(name="p", containers=[k8s.obj.container(name="c", image="i")]).containers[0].image`, Want: "i"},
		{Name: "attribute of object field", Expr: `type(k8s.obj.pod(name="p", containers=[], affinity=k8s.obj.affinity()).affinity)`, Want: "k8s.obj.affinity"},
		{Name: "json.encode-able via startype.Data", Expr: `k8s.obj.subject(kind="User", name="u").to_dict() == {"kind": "User", "name": "u"}`, Want: "True"},
		{Name: "mutating the argument later changes nothing", Pre: "L = {\"a\": \"1\"}\nc = k8s.obj.config_map(name=\"c\", labels=L)\nL[\"b\"] = \"2\"",
			Expr: `c.labels`, Want: `{"a": "1"}`},
		{Name: "mutating an attribute value changes nothing", Pre: "c = k8s.obj.config_map(name=\"c\", labels={\"a\": \"1\"})\nc.labels[\"b\"] = \"2\"",
			Expr: `c.to_dict()["metadata"]["labels"]`, Want: `{"a": "1"}`},
		{Name: "bytes become base64", Expr: `k8s.obj.secret(name="s", data={"k": b"pass"}).to_dict()["data"]`, Want: `{"k": "cGFzcw=="}`},
	})
}

func TestValue(t *testing.T) {
	const d = `d = k8s.obj.deployment(name="web", replicas=3, labels={"app": "web"})`
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "type", Pre: d, Expr: `type(d)`, Want: "k8s.obj.deployment"},
		{Name: "type pvc", Expr: `type(k8s.obj.persistent_volume_claim(name="p"))`, Want: "k8s.obj.persistentvolumeclaim"},
		{Name: "type sub-object", Expr: `type(k8s.obj.container_port(container_port=1))`, Want: "k8s.obj.containerport"},
		{Name: "str", Pre: d, Expr: `str(d)`, Want: `<deployment name="web" replicas=3>`},
		{Name: "str at most four fields", Expr: `str(k8s.obj.probe())`, Want: `<probe failure_threshold=3 period_seconds=10 success_threshold=1 timeout_seconds=1>`},
		{Name: "str name first, bools", Expr: `str(k8s.obj.volume_mount(name="v", mount_path="/m", read_only=True))`, Want: `<volumemount name="v" mount_path="/m" read_only=True>`},
		{Name: "str no scalars", Expr: `str(k8s.obj.affinity())`, Want: `<affinity>`},
		{Name: "repr", Pre: d, Expr: `repr([d])`, Want: `[<deployment name="web" replicas=3>]`},
		{Name: "unhashable", Pre: d, Expr: `{d: 1}`, Err: "unhashable type: k8s.obj.deployment"},
		{Name: "truthy", Expr: `bool(k8s.obj.affinity())`, Want: "True"},
		{Name: "attribute", Pre: d, Expr: `d.replicas`, Want: "3"},
		{Name: "attribute dict", Pre: d, Expr: `d.labels`, Want: `{"app": "web"}`},
		{Name: "unset attribute is None", Pre: d, Expr: `d.strategy`, Want: "None"},
		{Name: "defaulted attribute", Expr: `k8s.obj.job(name="j").backoff_limit`, Want: "6"},
		{Name: "unknown attribute", Pre: d, Expr: `d.nope`, Err: "k8s.obj.deployment has no .nope field or method"},
		{Name: "hasattr", Pre: d, Expr: `[hasattr(d, "containers"), hasattr(d, "to_dict"), hasattr(d, "spec")]`, Want: "[True, True, False]"},
		{Name: "dir", Expr: `dir(k8s.obj.env_var(name="x"))`, Want: `["name", "to_dict", "value", "value_from"]`},
		{Name: "dir sorted, workload", Pre: d, Expr: `dir(d) == sorted(dir(d)) and len(dir(d))`, Want: "24"},
		{Name: "to_dict takes no arguments", Pre: d, Expr: `d.to_dict(1)`, Err: "k8s.obj.deployment.to_dict: got 1 arguments, want 0"},
		{Name: "to_dict is a fresh dict", Pre: d + "\nx = d.to_dict()\nx[\"kind\"] = \"Other\"", Expr: `d.to_dict()["kind"]`, Want: "Deployment"},
		{Name: "frozen value still usable", Pre: "def f():\n    return k8s.obj.namespace(name=\"n\")\nN = f()", Expr: `N.to_dict()`,
			Want: `{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}`},
		{Name: "crd type and str", Expr: `[type(k8s.obj.crd("g.io", "v1", "W", "ws")), str(k8s.obj.crd("g.io", "v1", "W", "ws"))]`, Want: `["k8s.obj.crd", "<crd name=\"ws.g.io\">"]`},
		{Name: "crd dir", Expr: `dir(k8s.obj.crd("g.io", "v1", "W", "ws"))`, Want: `["to_dict"]`},
		{Name: "crd unhashable", Expr: `{k8s.obj.crd("g.io", "v1", "W", "ws"): 1}`, Err: "unhashable type: k8s.obj.crd"},
	})
}

func TestCRD(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "minimal", Expr: `k8s.obj.crd("example.io", "v1", "Widget", "widgets").to_dict()`,
			Want: `{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.io"}, "spec": {"group": "example.io", "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"}, "scope": "Namespaced", "versions": [{"name": "v1", "schema": {"openAPIV3Schema": {"properties": {"spec": {"type": "object"}}, "type": "object"}}, "served": True, "storage": True}]}}`},
		{Name: "cluster scope by keyword", Expr: `k8s.obj.crd(group="g.io", version="v2", kind="Big", plural="bigs", scope="Cluster").to_dict()["spec"]["scope"]`, Want: "Cluster"},
		{Name: "positional scope", Expr: `k8s.obj.crd("g.io", "v1", "W", "ws", "Cluster").to_dict()["spec"]["scope"]`, Want: "Cluster"},
		{Name: "required sorted", Expr: `k8s.obj.crd("g.io", "v1", "W", "ws", spec={"z": {"type": "string", "required": True}, "a": {"type": "string", "required": True}, "m": {"type": "string"}}).to_dict()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["required"]`,
			Want: `["a", "z"]`},
		{Name: "no status: no subresources", Expr: `"subresources" in k8s.obj.crd("g.io", "v1", "W", "ws", spec={"a": {"type": "string"}}).to_dict()["spec"]["versions"][0]`, Want: "False"},
		{Name: "status: subresources.status", Expr: `k8s.obj.crd("g.io", "v1", "W", "ws", status={"a": {"type": "string"}}).to_dict()["spec"]["versions"][0]["subresources"]`, Want: `{"status": {}}`},
		{Name: "bad scope", Expr: `k8s.obj.crd("g.io", "v1", "W", "ws", scope="Global")`, Err: `k8s.obj.crd: scope must be "Namespaced" or "Cluster", got "Global"`},
		{Name: "missing plural", Expr: `k8s.obj.crd("g.io", "v1", "W")`, Err: `k8s.obj.crd: missing argument for plural`},
		{Name: "empty kind", Expr: `k8s.obj.crd("g.io", "v1", "", "ws")`, Err: `k8s.obj.crd: kind must not be empty`},
		{Name: "spec not a dict", Expr: `k8s.obj.crd("g.io", "v1", "W", "ws", spec=[])`, Err: `k8s.obj.crd: for parameter "spec": got list, want dict`},
		{Name: "def not a dict", Expr: `k8s.obj.crd("g.io", "v1", "W", "ws", spec={"a": "string"})`, Err: `k8s.obj.crd: spec.a: field definition must be a dict, got string`},
		{Name: "bad type", Expr: `k8s.obj.crd("g.io", "v1", "W", "ws", status={"a": {"type": "int"}})`, Err: `k8s.obj.crd: status.a: type must be one of string, integer, number, boolean, array, object; got "int"`},
		{Name: "nested error path", Expr: `k8s.obj.crd("g.io", "v1", "W", "ws", spec={"a": {"type": "array", "items": {"type": "object", "properties": {"b": {"required": 1}}}}})`,
			Err: `k8s.obj.crd: spec.a[].b: required must be a bool, got int`},
		{Name: "to_dict is fresh", Pre: "c = k8s.obj.crd(\"g.io\", \"v1\", \"W\", \"ws\")\nc.to_dict()[\"spec\"][\"group\"] = \"x\"", Expr: `c.to_dict()["spec"]["group"]`, Want: "g.io"},
	})
}

// TestSpecExample renders the §12.3 example.
func TestSpecExample(t *testing.T) {
	rt, out := kit.New(t, nil)
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
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/spec_example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != string(want) {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// TestConcurrentUse reads one value from many goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	v, err := starlark.Call(&starlark.Thread{}, Namespace().(*starlarkstruct.Module).Members["deployment"], nil, []starlark.Tuple{
		{starlark.String("name"), starlark.String("d")},
		{starlark.String("containers"), starlark.NewList([]starlark.Value{starlark.NewDict(0)})},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*Object)
	o.Freeze()
	done := make(chan string)
	for range 8 {
		go func() {
			m, _ := o.K8sObject()
			a, _ := o.Attr("template")
			done <- fmt.Sprintf("%d %s %s", len(m), a.Type(), o.String())
		}()
	}
	var got []string
	for range 8 {
		got = append(got, <-done)
	}
	sort.Strings(got)
	if got[0] != got[7] || got[0] != `4 dict <deployment name="d" replicas=1>` {
		t.Fatalf("got %q", got)
	}
}
