package obj

// The constructor tables of spec k8s.md §12.2 and §12.3: one schema per
// constructor, read by the generic constructor in object.go.

// fieldType is what a field accepts.
type fieldType uint8

const (
	tString fieldType = iota
	tInt
	tBool
	tDict
	tList
	tObject      // a k8s.obj value or a dict
	tIntOrString // ports and quantities: an int or a string
)

// place is where a field renders.
type place uint8

const (
	inTop  place = iota // the object's root (every field of a flat sub-object)
	inMeta              // metadata.<key>
	inSpec              // spec.<key>
	inPod               // workload pod-level field: consumed by flattening
	inNone              // not rendered as is (PVC storage shorthand)
)

// field is one keyword a constructor takes.
type field struct {
	name string    // snake_case keyword
	key  string    // JSON key it renders as
	typ  fieldType // what it accepts
	of   string    // tObject/tList: the constructor a k8s.obj value (item) must come from; "" = any
	at   place
}

// schema describes one constructor.
type schema struct {
	ctor       string // constructor name: "stateful_set"
	kind       string // Kind; its lowercase names the value type
	apiVersion string // "" for sub-objects
	wrapped    bool   // sub-object rendered as {metadata, spec} (pod_template)
	workload   bool   // accepts the pod fields and flattens them (§12.1)
	fields     []field
	required   []string       // beyond "name", which every top-level kind requires
	defaults   map[string]any // applied to absent fields after the required check
	// finish adds derived output (the PVC storage shorthand).
	finish func(vals, root, spec map[string]any)

	byName map[string]*field
}

func at(p place, fs ...field) []field {
	out := make([]field, len(fs))
	for i, f := range fs {
		f.at = p
		out[i] = f
	}
	return out
}

func join(groups ...[]field) []field {
	var out []field
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

var (
	nameField      = field{"name", "name", tString, "", 0}
	namespaceField = field{"namespace", "namespace", tString, "", 0}
	labelsField    = field{"labels", "labels", tDict, "", 0}
	annotsField    = field{"annotations", "annotations", tDict, "", 0}

	// objectMeta are the metadata fields of top-level kinds.
	objectMeta = at(inMeta, nameField, namespaceField, labelsField, annotsField)

	// podFields are the PodSpec fields of pod, pod_spec, pod_template
	// and (flattened) the workloads.
	podFields = []field{
		{"containers", "containers", tList, "container", 0},
		{"init_containers", "initContainers", tList, "container", 0},
		{"volumes", "volumes", tList, "volume", 0},
		{"restart_policy", "restartPolicy", tString, "", 0},
		{"node_selector", "nodeSelector", tDict, "", 0},
		{"tolerations", "tolerations", tList, "toleration", 0},
		{"affinity", "affinity", tObject, "affinity", 0},
		{"service_account", "serviceAccountName", tString, "", 0},
		{"host_network", "hostNetwork", tBool, "", 0},
		{"dns_policy", "dnsPolicy", tString, "", 0},
		{"security_context", "securityContext", tObject, "security_context", 0},
	}

	// workloadPod are the extra fields of the five workloads (§12.1).
	workloadPod = at(inPod, append(append([]field(nil), podFields...),
		field{"template_labels", "", tDict, "", 0},
		field{"template_annotations", "", tDict, "", 0})...)

	podTemplateField = field{"template", "template", tObject, "pod_template", 0}
	selectorField    = field{"selector", "selector", tDict, "", 0}
)

// schemas lists every constructor but crd, in spec order.
var schemas = []*schema{
	// §12.2 top-level kinds
	{ctor: "pod", kind: "Pod", apiVersion: "v1",
		fields:   join(objectMeta, at(inSpec, podFields...)),
		required: []string{"containers"}, defaults: map[string]any{"restart_policy": "Always"}},
	{ctor: "deployment", kind: "Deployment", apiVersion: "apps/v1", workload: true,
		fields: join(objectMeta, at(inSpec,
			field{"replicas", "replicas", tInt, "", 0},
			selectorField,
			podTemplateField,
			field{"strategy", "strategy", tDict, "", 0},
			field{"min_ready_seconds", "minReadySeconds", tInt, "", 0},
			field{"revision_history", "revisionHistoryLimit", tInt, "", 0},
		), workloadPod),
		defaults: map[string]any{"replicas": int64(1)}},
	{ctor: "stateful_set", kind: "StatefulSet", apiVersion: "apps/v1", workload: true,
		fields: join(objectMeta, at(inSpec,
			field{"replicas", "replicas", tInt, "", 0},
			selectorField,
			podTemplateField,
			field{"service_name", "serviceName", tString, "", 0},
			field{"volume_claim_templates", "volumeClaimTemplates", tList, "persistent_volume_claim", 0},
			field{"pod_management_policy", "podManagementPolicy", tString, "", 0},
		), workloadPod),
		defaults: map[string]any{"replicas": int64(1)}},
	{ctor: "daemon_set", kind: "DaemonSet", apiVersion: "apps/v1", workload: true,
		fields: join(objectMeta, at(inSpec,
			selectorField,
			podTemplateField,
			field{"update_strategy", "updateStrategy", tDict, "", 0},
			field{"min_ready_seconds", "minReadySeconds", tInt, "", 0},
		), workloadPod)},
	{ctor: "job", kind: "Job", apiVersion: "batch/v1", workload: true,
		fields: join(objectMeta, at(inSpec,
			podTemplateField,
			field{"completions", "completions", tInt, "", 0},
			field{"parallelism", "parallelism", tInt, "", 0},
			field{"backoff_limit", "backoffLimit", tInt, "", 0},
			field{"active_deadline", "activeDeadlineSeconds", tInt, "", 0},
			field{"ttl_after_finished", "ttlSecondsAfterFinished", tInt, "", 0},
		), workloadPod),
		defaults: map[string]any{"backoff_limit": int64(6)}},
	{ctor: "cron_job", kind: "CronJob", apiVersion: "batch/v1", workload: true,
		fields: join(objectMeta, at(inSpec,
			field{"schedule", "schedule", tString, "", 0},
			field{"job_template", "jobTemplate", tObject, "", 0},
			field{"concurrency_policy", "concurrencyPolicy", tString, "", 0},
			field{"suspend", "suspend", tBool, "", 0},
			field{"history_limit", "successfulJobsHistoryLimit", tInt, "", 0},
			field{"failed_history", "failedJobsHistoryLimit", tInt, "", 0},
		), workloadPod),
		required: []string{"schedule"}, defaults: map[string]any{"concurrency_policy": "Allow"}},
	{ctor: "service", kind: "Service", apiVersion: "v1",
		fields: join(objectMeta, at(inSpec,
			field{"ports", "ports", tList, "service_port", 0},
			selectorField,
			field{"type", "type", tString, "", 0},
			field{"cluster_ip", "clusterIP", tString, "", 0},
			field{"external_ips", "externalIPs", tList, "", 0},
			field{"session_affinity", "sessionAffinity", tString, "", 0},
		)),
		defaults: map[string]any{"type": "ClusterIP"}},
	{ctor: "ingress", kind: "Ingress", apiVersion: "networking.k8s.io/v1",
		fields: join(objectMeta, at(inSpec,
			field{"rules", "rules", tList, "ingress_rule", 0},
			field{"tls", "tls", tList, "", 0},
			field{"default_backend", "defaultBackend", tDict, "", 0},
			field{"ingress_class_name", "ingressClassName", tString, "", 0},
		))},
	{ctor: "config_map", kind: "ConfigMap", apiVersion: "v1",
		fields: join(objectMeta, at(inTop,
			field{"data", "data", tDict, "", 0},
			field{"binary_data", "binaryData", tDict, "", 0},
			field{"immutable", "immutable", tBool, "", 0},
		))},
	{ctor: "secret", kind: "Secret", apiVersion: "v1",
		fields: join(objectMeta, at(inTop,
			field{"data", "data", tDict, "", 0},
			field{"string_data", "stringData", tDict, "", 0},
			field{"type", "type", tString, "", 0},
			field{"immutable", "immutable", tBool, "", 0},
		)),
		defaults: map[string]any{"type": "Opaque"}},
	{ctor: "namespace", kind: "Namespace", apiVersion: "v1",
		fields: at(inMeta, nameField, labelsField, annotsField)},
	{ctor: "persistent_volume_claim", kind: "PersistentVolumeClaim", apiVersion: "v1",
		fields: join(objectMeta, at(inSpec,
			field{"access_modes", "accessModes", tList, "", 0},
			field{"resources", "resources", tObject, "resource_requirements", 0},
			field{"storage_class", "storageClassName", tString, "", 0},
			field{"volume_mode", "volumeMode", tString, "", 0},
		), at(inNone, field{"storage", "", tIntOrString, "", 0})),
		finish: storageShorthand},
	{ctor: "service_account", kind: "ServiceAccount", apiVersion: "v1",
		fields: join(objectMeta, at(inTop,
			field{"secrets", "secrets", tList, "", 0},
			field{"image_pull_secrets", "imagePullSecrets", tList, "", 0},
			field{"automount_service_account_token", "automountServiceAccountToken", tBool, "", 0},
		))},
	{ctor: "horizontal_pod_autoscaler", kind: "HorizontalPodAutoscaler", apiVersion: "autoscaling/v2",
		fields: join(objectMeta, at(inSpec,
			field{"scale_target_ref", "scaleTargetRef", tDict, "", 0},
			field{"min_replicas", "minReplicas", tInt, "", 0},
			field{"max_replicas", "maxReplicas", tInt, "", 0},
			field{"metrics", "metrics", tList, "", 0},
		)),
		required: []string{"scale_target_ref", "max_replicas"}, defaults: map[string]any{"min_replicas": int64(1)}},
	{ctor: "role", kind: "Role", apiVersion: "rbac.authorization.k8s.io/v1",
		fields: join(objectMeta, at(inTop,
			field{"rules", "rules", tList, "policy_rule", 0},
		))},
	{ctor: "cluster_role", kind: "ClusterRole", apiVersion: "rbac.authorization.k8s.io/v1",
		fields: join(objectMeta, at(inTop,
			field{"rules", "rules", tList, "policy_rule", 0},
			field{"aggregation_rule", "aggregationRule", tDict, "", 0},
		))},
	{ctor: "role_binding", kind: "RoleBinding", apiVersion: "rbac.authorization.k8s.io/v1",
		fields: join(objectMeta, at(inTop,
			field{"role_ref", "roleRef", tDict, "", 0},
			field{"subjects", "subjects", tList, "subject", 0},
		)),
		required: []string{"role_ref"}},
	{ctor: "cluster_role_binding", kind: "ClusterRoleBinding", apiVersion: "rbac.authorization.k8s.io/v1",
		fields: join(objectMeta, at(inTop,
			field{"role_ref", "roleRef", tDict, "", 0},
			field{"subjects", "subjects", tList, "subject", 0},
		)),
		required: []string{"role_ref"}},
	{ctor: "network_policy", kind: "NetworkPolicy", apiVersion: "networking.k8s.io/v1",
		fields: join(objectMeta, at(inSpec,
			field{"pod_selector", "podSelector", tDict, "", 0},
			field{"ingress", "ingress", tList, "", 0},
			field{"egress", "egress", tList, "", 0},
			field{"policy_types", "policyTypes", tList, "", 0},
		))},

	// §12.3 sub-objects
	{ctor: "pod_spec", kind: "PodSpec", fields: at(inTop, podFields...),
		required: []string{"containers"}, defaults: map[string]any{"restart_policy": "Always"}},
	{ctor: "pod_template", kind: "PodTemplate", wrapped: true,
		fields:   join(at(inMeta, labelsField, annotsField), at(inSpec, podFields...)),
		required: []string{"containers"}},
	{ctor: "container", kind: "Container", fields: at(inTop,
		nameField,
		field{"image", "image", tString, "", 0},
		field{"command", "command", tList, "", 0},
		field{"args", "args", tList, "", 0},
		field{"ports", "ports", tList, "container_port", 0},
		field{"env", "env", tList, "env_var", 0},
		field{"env_from", "envFrom", tList, "env_from", 0},
		field{"volume_mounts", "volumeMounts", tList, "volume_mount", 0},
		field{"resources", "resources", tObject, "resource_requirements", 0},
		field{"liveness_probe", "livenessProbe", tObject, "probe", 0},
		field{"readiness_probe", "readinessProbe", tObject, "probe", 0},
		field{"startup_probe", "startupProbe", tObject, "probe", 0},
		field{"working_dir", "workingDir", tString, "", 0},
		field{"image_pull_policy", "imagePullPolicy", tString, "", 0},
		field{"security_context", "securityContext", tObject, "security_context", 0},
	), required: []string{"name", "image"}},
	{ctor: "container_port", kind: "ContainerPort", fields: at(inTop,
		field{"container_port", "containerPort", tInt, "", 0},
		nameField,
		field{"protocol", "protocol", tString, "", 0},
		field{"host_port", "hostPort", tInt, "", 0},
	), required: []string{"container_port"}, defaults: map[string]any{"protocol": "TCP"}},
	{ctor: "volume", kind: "Volume", fields: at(inTop,
		nameField,
		field{"empty_dir", "emptyDir", tDict, "", 0},
		field{"config_map", "configMap", tDict, "", 0},
		field{"secret", "secret", tDict, "", 0},
		field{"pvc", "persistentVolumeClaim", tDict, "", 0},
		field{"host_path", "hostPath", tDict, "", 0},
	), required: []string{"name"}},
	{ctor: "volume_mount", kind: "VolumeMount", fields: at(inTop,
		nameField,
		field{"mount_path", "mountPath", tString, "", 0},
		field{"sub_path", "subPath", tString, "", 0},
		field{"read_only", "readOnly", tBool, "", 0},
	), required: []string{"name", "mount_path"}},
	{ctor: "env_var", kind: "EnvVar", fields: at(inTop,
		nameField,
		field{"value", "value", tString, "", 0},
		field{"value_from", "valueFrom", tDict, "", 0},
	), required: []string{"name"}},
	{ctor: "env_from", kind: "EnvFrom", fields: at(inTop,
		field{"config_map_ref", "configMapRef", tDict, "", 0},
		field{"secret_ref", "secretRef", tDict, "", 0},
		field{"prefix", "prefix", tString, "", 0},
	)},
	{ctor: "resource_requirements", kind: "ResourceRequirements", fields: at(inTop,
		field{"requests", "requests", tDict, "", 0},
		field{"limits", "limits", tDict, "", 0},
	)},
	{ctor: "probe", kind: "Probe", fields: at(inTop,
		field{"http_get", "httpGet", tDict, "", 0},
		field{"tcp_socket", "tcpSocket", tDict, "", 0},
		field{"exec", "exec", tDict, "", 0},
		field{"initial_delay_seconds", "initialDelaySeconds", tInt, "", 0},
		field{"period_seconds", "periodSeconds", tInt, "", 0},
		field{"timeout_seconds", "timeoutSeconds", tInt, "", 0},
		field{"success_threshold", "successThreshold", tInt, "", 0},
		field{"failure_threshold", "failureThreshold", tInt, "", 0},
	), defaults: map[string]any{"period_seconds": int64(10), "timeout_seconds": int64(1),
		"success_threshold": int64(1), "failure_threshold": int64(3)}},
	{ctor: "service_port", kind: "ServicePort", fields: at(inTop,
		field{"port", "port", tInt, "", 0},
		field{"target_port", "targetPort", tIntOrString, "", 0},
		nameField,
		field{"protocol", "protocol", tString, "", 0},
		field{"node_port", "nodePort", tInt, "", 0},
	), required: []string{"port"}, defaults: map[string]any{"protocol": "TCP"}},
	{ctor: "ingress_rule", kind: "IngressRule", fields: at(inTop,
		field{"host", "host", tString, "", 0},
		field{"paths", "http", tDict, "", 0},
	)},
	{ctor: "ingress_path", kind: "IngressPath", fields: at(inTop,
		field{"path", "path", tString, "", 0},
		field{"path_type", "pathType", tString, "", 0},
		field{"backend", "backend", tDict, "", 0},
	), required: []string{"path", "backend"}, defaults: map[string]any{"path_type": "Prefix"}},
	{ctor: "toleration", kind: "Toleration", fields: at(inTop,
		field{"key", "key", tString, "", 0},
		field{"operator", "operator", tString, "", 0},
		field{"value", "value", tString, "", 0},
		field{"effect", "effect", tString, "", 0},
		field{"toleration_seconds", "tolerationSeconds", tInt, "", 0},
	), defaults: map[string]any{"operator": "Equal"}},
	{ctor: "affinity", kind: "Affinity", fields: at(inTop,
		field{"node_affinity", "nodeAffinity", tDict, "", 0},
		field{"pod_affinity", "podAffinity", tDict, "", 0},
		field{"pod_anti_affinity", "podAntiAffinity", tDict, "", 0},
	)},
	{ctor: "policy_rule", kind: "PolicyRule", fields: at(inTop,
		field{"api_groups", "apiGroups", tList, "", 0},
		field{"resources", "resources", tList, "", 0},
		field{"verbs", "verbs", tList, "", 0},
	), required: []string{"api_groups", "resources", "verbs"}},
	{ctor: "subject", kind: "Subject", fields: at(inTop,
		field{"kind", "kind", tString, "", 0},
		nameField,
		namespaceField,
		field{"api_group", "apiGroup", tString, "", 0},
	), required: []string{"kind", "name"}},
	{ctor: "security_context", kind: "SecurityContext", fields: at(inTop,
		field{"run_as_user", "runAsUser", tInt, "", 0},
		field{"run_as_group", "runAsGroup", tInt, "", 0},
		field{"run_as_non_root", "runAsNonRoot", tBool, "", 0},
		field{"read_only_root", "readOnlyRootFilesystem", tBool, "", 0},
		field{"privileged", "privileged", tBool, "", 0},
		field{"capabilities", "capabilities", tDict, "", 0},
	)},
}

// storageShorthand renders the PVC `storage` field as
// spec.resources.requests.storage when `resources` is unset.
func storageShorthand(vals, _, spec map[string]any) {
	s, ok := vals["storage"]
	if _, has := vals["resources"]; !ok || has {
		return
	}
	spec["resources"] = map[string]any{"requests": map[string]any{"storage": s}}
}

func init() {
	for _, s := range schemas {
		s.byName = make(map[string]*field, len(s.fields))
		for i := range s.fields {
			f := &s.fields[i]
			if s.byName[f.name] != nil {
				panic("k8s.obj." + s.ctor + ": duplicate field " + f.name)
			}
			s.byName[f.name] = f
		}
		if s.apiVersion != "" {
			s.required = append([]string{"name"}, s.required...)
		}
		for _, name := range s.required {
			if s.byName[name] == nil {
				panic("k8s.obj." + s.ctor + ": unknown required field " + name)
			}
		}
		for name := range s.defaults {
			if s.byName[name] == nil {
				panic("k8s.obj." + s.ctor + ": unknown default field " + name)
			}
		}
	}
}
