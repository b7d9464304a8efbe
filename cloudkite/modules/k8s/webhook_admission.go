package k8s

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"
	"gomodules.xyz/jsonpatch/v2"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/project-starkite/starkite/libkite"
)

// webhookHandler serves AdmissionReview requests (spec §14 "Request
// handling") on the webhook's path, running validate and mutate on
// Caller threads, one request at a time.
type webhookHandler struct {
	path             string
	validate, mutate starlark.Callable
	caller           *libkite.Caller
	maxBody          int64

	callMu sync.Mutex // serialises handler calls: script globals stay mutable

	mu      sync.Mutex
	closing bool           // drain has begun: no new requests are taken
	active  sync.WaitGroup // requests in progress
}

// webhookResponse is AdmissionReview.response (admission.k8s.io/v1).
type webhookResponse struct {
	UID       string         `json:"uid"`
	Allowed   bool           `json:"allowed"`
	Status    *webhookStatus `json:"status,omitempty"`
	PatchType string         `json:"patchType,omitempty"`
	Patch     []byte         `json:"patch,omitempty"` // base64 in JSON
}

type webhookStatus struct {
	Message string `json:"message"`
}

type webhookReview struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Response   *webhookResponse `json:"response"`
}

// matches reports whether the webhook serves urlPath: the path itself,
// and everything under it when it ends with "/".
func (h *webhookHandler) matches(urlPath string) bool {
	return urlPath == h.path || (strings.HasSuffix(h.path, "/") && strings.HasPrefix(urlPath, h.path))
}

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.matches(r.URL.Path) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed: admission reviews are POSTed", http.StatusMethodNotAllowed)
		return
	}
	if !h.enter() {
		w.Header().Set("Connection", "close")
		http.Error(w, "webhook shutting down", http.StatusServiceUnavailable)
		return
	}
	defer h.active.Done()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("request body exceeds %d bytes", h.maxBody), http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "cannot read request body: "+err.Error(), http.StatusBadRequest)
		}
		return
	}
	uid, obj, err := webhookParseReview(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp := h.admit(obj)
	resp.UID = uid
	out, err := json.Marshal(webhookReview{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview", Response: &resp})
	if err != nil {
		http.Error(w, "cannot encode the admission response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// enter registers a request; false once the drain has begun.
func (h *webhookHandler) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	h.active.Add(1)
	return true
}

// drain stops taking requests and waits up to limit for those in
// progress (their handler threads are cancelled by then).
func (h *webhookHandler) drain(limit time.Duration) {
	h.mu.Lock()
	h.closing = true
	h.mu.Unlock()
	idle := make(chan struct{})
	go func() { h.active.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-time.After(limit):
		// a handler blocked in a builtin that ignores cancellation ends
		// on its own; the server is stopped regardless
	}
}

// webhookParseReview returns request.uid and the object to admit:
// request.object, or request.oldObject for a DELETE whose object is null.
func webhookParseReview(body []byte) (string, map[string]any, error) {
	var review any
	if err := utiljson.Unmarshal(body, &review); err != nil {
		return "", nil, fmt.Errorf("invalid AdmissionReview JSON: %v", err)
	}
	top, ok := review.(map[string]any)
	if !ok {
		return "", nil, errors.New("invalid AdmissionReview: not a JSON object")
	}
	req, ok := top["request"].(map[string]any)
	if !ok {
		return "", nil, errors.New("invalid AdmissionReview: missing request")
	}
	uid, _ := req["uid"].(string)
	if uid == "" {
		return "", nil, errors.New("invalid AdmissionReview: missing request.uid")
	}
	raw := req["object"]
	if raw == nil && req["operation"] == "DELETE" {
		raw = req["oldObject"]
	}
	if raw == nil {
		return "", nil, errors.New("invalid AdmissionReview: missing request.object")
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return "", nil, errors.New("invalid AdmissionReview: request.object is not a JSON object")
	}
	return uid, obj, nil
}

func webhookDenied(msg string) webhookResponse {
	return webhookResponse{Allowed: false, Status: &webhookStatus{Message: msg}}
}

// admit runs validate, then (if allowed) mutate, each on a fresh Caller
// thread with its own copy of obj; obj itself is the snapshot the
// mutation is diffed against.
func (h *webhookHandler) admit(obj map[string]any) webhookResponse {
	h.callMu.Lock()
	defer h.callMu.Unlock()
	var resp webhookResponse
	if h.validate != nil {
		v, err := h.call(h.validate, obj)
		if err != nil {
			return webhookDenied(err.Error())
		}
		allowed, msg, err := webhookValidateResult(v)
		if err != nil {
			return webhookDenied(err.Error())
		}
		if msg != "" {
			resp.Status = &webhookStatus{Message: msg}
		}
		if !allowed {
			return resp
		}
	}
	if h.mutate != nil {
		v, err := h.call(h.mutate, obj)
		if err != nil {
			return webhookDenied(err.Error())
		}
		patch, err := webhookMutationPatch(obj, v)
		if err != nil {
			return webhookDenied(err.Error())
		}
		if patch != nil {
			resp.PatchType, resp.Patch = "JSONPatch", patch
		}
	}
	resp.Allowed = true
	return resp
}

// call runs fn(AttrDict over a deep copy of obj).
func (h *webhookHandler) call(fn starlark.Callable, obj map[string]any) (starlark.Value, error) {
	arg := NewAttrDict(deepCopyJSON(obj).(map[string]any))
	v, err := h.caller.Call(fn, starlark.Tuple{arg}, nil)
	if err != nil {
		return nil, err
	}
	if v == nil {
		v = starlark.None
	}
	return v, nil
}

// webhookValidateResult reads validate's {"allowed": bool, "message"?: str}.
func webhookValidateResult(v starlark.Value) (allowed bool, msg string, err error) {
	var m starlark.Mapping
	switch x := v.(type) {
	case *starlark.Dict:
		m = x
	case *AttrDict:
		m = x
	default:
		return false, "", fmt.Errorf("k8s.webhook: validate must return a dict like {\"allowed\": bool, \"message\": str}, got %s", v.Type())
	}
	a, found, err := m.Get(starlark.String("allowed"))
	if err != nil {
		return false, "", fmt.Errorf("k8s.webhook: validate result: %v", err)
	}
	if !found {
		return false, "", errors.New("k8s.webhook: validate result has no \"allowed\" key")
	}
	b, ok := a.(starlark.Bool)
	if !ok {
		return false, "", fmt.Errorf("k8s.webhook: validate result \"allowed\" must be a bool, got %s", a.Type())
	}
	if mv, found, _ := m.Get(starlark.String("message")); found && mv != starlark.None {
		if s, ok := mv.(starlark.String); ok {
			msg = string(s)
		} else {
			msg = mv.String()
		}
	}
	return bool(b), msg, nil
}

// webhookMutationPatch diffs the snapshot against what mutate returned (the
// AttrDict or a dict) into an RFC 6902 patch; nil when nothing changed.
func webhookMutationPatch(snapshot map[string]any, v starlark.Value) ([]byte, error) {
	var after map[string]any
	switch x := v.(type) {
	case *AttrDict:
		o, err := x.K8sObject()
		if err != nil {
			return nil, fmt.Errorf("k8s.webhook: mutate result: %v", err)
		}
		after = o
	case *starlark.Dict:
		o, err := toObject(x, "k8s.webhook: mutate result")
		if err != nil {
			return nil, err
		}
		after = o
	default:
		return nil, fmt.Errorf("k8s.webhook: mutate must return the object (AttrDict or dict), got %s", v.Type())
	}
	before, err := json.Marshal(snapshot)
	if err != nil {
		return nil, fmt.Errorf("k8s.webhook: encoding the object: %v", err)
	}
	afterJSON, err := json.Marshal(after)
	if err != nil {
		return nil, fmt.Errorf("k8s.webhook: mutate result: %v", err)
	}
	ops, err := jsonpatch.CreatePatch(before, afterJSON)
	if err != nil {
		return nil, fmt.Errorf("k8s.webhook: computing the patch: %v", err)
	}
	if len(ops) == 0 {
		return nil, nil
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		return nil, fmt.Errorf("k8s.webhook: encoding the patch: %v", err)
	}
	return patch, nil
}
