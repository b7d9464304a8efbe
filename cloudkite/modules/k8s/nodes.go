package k8s

// nodeOps: node operations, metrics and describe (spec §10).
var nodeOps = map[string]op{}
