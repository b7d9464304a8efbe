package k8s

// workloadOps: the kubectl-style workload helpers (spec §9).
var workloadOps = map[string]op{}
