package k8s

// streamOps: logs, logs_follow, exec, port_forward, cp (spec §7).
var streamOps = map[string]op{}
